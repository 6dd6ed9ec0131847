/*
 * detect_int.h: the compiled form of Sigma rules, shared by the detect_*.c
 * files and private to them (nothing outside detect includes this).
 *
 * A rule compiles into selections (trees of field conditions) and a
 * condition tree over those selections. A field condition holds patterns
 * that all share the modifiers of their key, already transformed (base64,
 * utf16, windash...) and lowercased at load time, so matching an event
 * only compares bytes. Rules are grouped by the set of mapping entries
 * their logsource selected; each group's logsource condition is evaluated
 * once per event.
 */
#ifndef VG_DETECT_INT_H
#define VG_DETECT_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "detect.h"
#include "ytree.h"

/* A Sigma string: bytes 0..255 and the two wildcards. */
#define TOK_STAR 256u
#define TOK_QMARK 257u

struct sstr {
	uint16_t *t;
	uint32_t n;
};

enum pat_kind {
	PK_EQ,       /* whole value equals s */
	PK_PREFIX,   /* starts with s */
	PK_SUFFIX,   /* ends with s */
	PK_CONTAINS, /* s anywhere */
	PK_GLOB,     /* tokens with * and ? */
	PK_ANY,      /* `*`: any value, even empty */
	PK_RE,       /* PCRE2 */
	PK_CIDR,     /* address within a network */
	PK_LT, PK_LTE, PK_GT, PK_GTE, /* numeric comparison with num */
	PK_REF,      /* equal to a value of another field */
};

struct pat {
	uint8_t kind;     /* enum pat_kind */
	uint8_t isnum;    /* PK_EQ from a YAML number: V_NUM values compare by number */
	uint8_t plen;     /* PK_CIDR: prefix length over the 128-bit form */
	uint8_t jit;      /* PK_RE: JIT-compiled */
	uint8_t v4;       /* PK_CIDR: an IPv4 network (or IPv4-mapped) */
	uint32_t len;     /* length of s */
	char *s;          /* literal (lowercased unless the condition is cased) */
	uint16_t *tok;    /* PK_GLOB: tokens, lowercased likewise */
	uint32_t ntok;
	double num;       /* isnum, PK_LT..PK_GTE */
	pcre2_code *re;   /* PK_RE */
	uint8_t addr[16]; /* PK_CIDR: network, IPv4 as ::ffff:a.b.c.d */
	uint32_t *refs;   /* PK_REF: event fields of the referenced Sigma field */
	uint32_t nrefs;
	char *shown;      /* the value for explanations, as the rule wrote it */
	uint32_t lit;     /* prefilter literal id + 1 that every value it
	                     matches holds (and that the scan looks for in
	                     every field it reads), or 0 */
	char *relit;      /* PK_RE: folded bytes that every match holds, even
	                     a single one (a backtick), or NULL */
	uint32_t relen;
	uint32_t remin;   /* PK_RE: the fewest bytes a match needs */
	uint32_t grp;     /* which value of the rule it came from: variants
	                     (windash, base64offset, expand) share one, and
	                     |all needs one pattern of each group */
};

enum fc_kind {
	FC_VALUES, /* patterns over the values of the fields */
	FC_EXISTS, /* the field is present (want = 1) or absent (want = 0) */
	FC_NULL,   /* the field is absent or holds only null */
};

enum time_part { TP_NONE, TP_MINUTE, TP_HOUR, TP_DAY, TP_WEEK, TP_MONTH, TP_YEAR };

struct fcond {
	uint8_t kind;     /* enum fc_kind */
	uint8_t all;      /* |all: every pattern must match some value */
	uint8_t cased;    /* compare bytes exactly */
	uint8_t neg;      /* |neq: the result is negated */
	uint8_t keyword;  /* no field: message, or every string value */
	uint8_t want;     /* FC_EXISTS */
	uint8_t tpart;    /* enum time_part: compare a part of a date */
	uint8_t never;    /* |expand gave no value to match (or, with |all,
	                     one of the values expanded to none) */
	uint8_t tagged;   /* every pattern has a prefilter literal (pat.lit) */
	uint8_t wholeeq;  /* plain, tagged, uncased, not |all, and every
	                     pattern an equality whose literal is all of it
	                     (not a number's): a string value of its fields
	                     in which the scan found one of its literals, of
	                     the literal's length, matches (detect.c,
	                     fc_wholeeq) */
	uint8_t plain;    /* values of named fields against string patterns
	                     (equality, prefix, suffix, contains, any) only:
	                     detect_match.c's short path (detect_fc_plain);
	                     set by detect_ruleset_finish with lits, which
	                     the short path reads without a check */
	uint32_t *fields; /* event field ids, any of which may hold the value */
	uint32_t nfields;
	struct pat *pats;  /* groups (pat.grp) are contiguous */
	uint32_t npats;
	uint32_t ngrp;     /* values the rule wrote */
	char *name;       /* Sigma field name as written ("" for keywords) */
	char *key;        /* the whole key with modifiers */
	int line, col;
	struct cset *cs;  /* plain, folded, contains only, none of them with
	                     a prefilter literal, and many: their first
	                     bytes, for one pass over a value (detect_fc_cset) */
	uint32_t *lits;   /* [npats] pats[k].lit side by side, so that a
	                     condition whose literals are absent is ruled out
	                     without a cache line per pattern; NULL before
	                     detect_ruleset_finish */
};

enum sn_kind { SN_AND, SN_OR, SN_FC };

/* A selection: maps are AND of field conditions, lists OR of items. */
struct snode {
	uint8_t kind;     /* enum sn_kind */
	uint32_t n;
	struct snode **kids;
	struct fcond *fc; /* SN_FC */
};

enum cn_op { CN_AND, CN_OR, CN_NOT, CN_SEL, CN_OF };

struct cnode {
	uint8_t op;       /* enum cn_op */
	uint32_t sel;     /* CN_SEL: index into the rule's selections */
	uint32_t k;       /* CN_OF: how many must hold; 0 means all */
	uint32_t n;
	struct cnode **kids; /* CN_OF: CN_SEL nodes */
	char *text;       /* CN_OF: "1 of filter_*" for explanations */
};

struct sel {
	char *name;
	char *filter;     /* title of the Sigma filter it came from, or NULL */
	struct snode *root;
};

struct lsource {
	char *category, *product, *service;
};

struct rule_impl {
	struct sel *sels;
	uint32_t nsels;
	struct cnode *cond;
	uint32_t group;        /* index of the rule's logsource group */
	uint8_t indexed;       /* evaluated only when the prefilter names it */
	uint32_t *need;        /* not indexed: the event fields of which one
	                          must be present for it to match; NULL when
	                          none is known (detect_index.c) */
	uint32_t nneed;
	uint32_t index;        /* load order */
	struct lsource ls;
	struct ynode *vigil;   /* copy of the `vigil:` extension, or NULL */
	void *pack;            /* the block that holds sels, cond and every
	                          node, condition, field list and pattern
	                          under them, in evaluation order (detect.c,
	                          detect_ruleset_finish); NULL: each is its own
	                          allocation */
};

/* Mapping entries (rules/mappings/). */
#define MAP_TRUTH_FIELDS 6     /* 2^6 combinations: one word of answers */
struct map_ls {
	struct lsource ls;     /* NULL members are not constrained */
	struct snode *cond;    /* compiled conditions; NULL for none */
	char *file;
	int line;
	void *pack;            /* the block cond's nodes are packed in
	                          (detect_ruleset_finish), or NULL */
	/* A cond that only asks which of a few fields are present (`exists`
	 * under AND and OR, the usual product entry): its answer for each
	 * combination, bit b of truth for the fields tfield[j] present
	 * exactly where bit j of b is set. ntf 0: evaluate cond. */
	uint32_t tfield[MAP_TRUTH_FIELDS];
	uint8_t ntf;
	uint64_t truth;
};

struct map_fields {
	struct lsource ls;
	int restricted;        /* 0: applies to every logsource */
	char **from;           /* Sigma names; "*" stands for any other */
	char ***to;            /* event names per Sigma name, NULL-terminated;
	                          a "*" in one is the Sigma name */
	size_t n;
};

/* A placeholder's values (`placeholders:` documents), for |expand. */
struct placeholder {
	char *name;            /* without the % signs */
	struct sstr *vals;     /* Sigma strings: wildcards allowed */
	size_t n;
	char *file;
	int line, col;
};

struct lsgroup {
	uint32_t *entries;     /* indices of the map_ls entries that matched */
	uint32_t nentries;
	struct snode *cond;    /* AND of their conditions; NULL: every event */
	uint32_t *rules;       /* rule indices, load order */
	uint32_t nrules, caprules;
	uint32_t *always;      /* those the prefilter cannot rule out */
	uint32_t nalways;
	uint32_t *need;        /* the union of their rule_impl.need, distinct;
	                          NULL when one of them has none */
	uint32_t nneed;
};

/*
 * The literal prefilter (detect_index.c): the case-folded literals that
 * each indexed rule needs at least one of (in a given field). Literals of
 * 4 bytes or more are found through one 4-byte "anchor" each (the rarest
 * 4-gram of the literal among all literals): a bitmap over hashed 4-grams
 * rejects almost every position of a value at the cost of one bit test,
 * and the few that pass look the gram up and compare the literals anchored
 * there. Shorter literals are looked up byte by byte and pair by pair. Only
 * rules with a literal found in the right field are evaluated, plus those
 * no literal can vouch for.
 */
/* A single byte turns up in nearly every value: it vouches for nothing,
 * and looking for it everywhere costs more than evaluating its rule. */
#define LIT_MIN 2
#define PF_SHORT 1
#define PF_PART 4      /* pf.scan: see there */
/* A literal anchored at a 4-gram, with what verifying it needs. */
struct pf_anchor {
	uint32_t lit;          /* literal id */
	uint32_t off;          /* offset of the gram in the literal */
	uint32_t len;          /* of the literal */
	uint32_t text;         /* its bytes: ltext + text */
	uint64_t fields;       /* the literal's pf_lit.fields */
	uint64_t head;         /* its first bytes (up to 8) in memory order */
	uint64_t hmask;        /* the bytes of head that are the literal's */
};

/* A 4-gram that anchors literals: anc[beg]..anc[end - 1]. */
struct pf_gram {
	uint32_t key;          /* folded, in memory order */
	uint32_t beg, end;     /* end == 0: an empty slot */
};

/* What a hit on a literal needs, together. */
struct pf_lit {
	uint32_t poff, pend;   /* its postings */
	uint64_t gates;        /* gate bits of the rules that need it; bit 63:
	                          some rule has no gate: always look */
	uint64_t fields;       /* bit (field id % 63) of each field it is
	                          looked for in, bit 63 for keywords */
};

/* A literal's last hit: the value (entry) it was in, this epoch. */
struct pf_seen {
	uint32_t epoch, entry;
	uint8_t at;            /* PF_AT_* of its hits in that value so far,
	                          and PF_SEEN_KW */
};
/* pf_seen.at: the keywords' postings were walked for that value too (a
 * value looked up whole for its field's rules is scanned for keywords
 * after, and finds the same literal there). */
#define PF_SEEN_KW 4
/* Where in a value a literal was found, and where a posting needs it:
 * startswith needs PF_AT_START, endswith PF_AT_END, equality both. */
#define PF_AT_START 1
#define PF_AT_END 2
#define PF_LONG 2

/* A literal looked for in a field (FIELD_NONE: keywords). */
struct pf_where {
	uint32_t lit, field;
};

#define PF_FEW 4

struct pf_first {
	uint8_t n;             /* distinct pairs; PF_FEW + 1: more */
	uint16_t p[PF_FEW];    /* an anchor's first two bytes, first low */
};

/* A class's own region of each bitmap, sized to its literals, so that a
 * scan tests bits in a few KiB (the keywords' of a syslog message stay in
 * the first-level cache) and only the class's literals set them. */
#define PF_BITS_PER 128        /* bits per literal of the class */
#define PF_REGION_MIN_LOG 9    /* 512 bits: the empty region at 0 too */
struct pf_class {
	uint32_t mix;          /* hash of its literals, mixed into the gram */
	uint32_t goff, poff;   /* first bit of its regions of bits, pairs */
	uint8_t gshift, pshift; /* 32 - log2 of the regions' sizes */
	uint8_t wide;          /* (per field) every literal has 8 bytes or
	                          more: its bits are those of 8-grams */
};

struct prefilter {
	/* The bitmaps are keyed by the gram (or pair) and the class of the
	 * field scanned: fields that look for the same literals share a
	 * class, so a gram that only another field's literals start costs
	 * a bit test and nothing more. */
	struct pf_class *cls;  /* per field id < nscan: its class */
	struct pf_class kwcls; /* the same for keywords */
	/* A class whose long literals' anchors start with at most PF_FEW
	 * distinct pairs of bytes (a few keywords) is scanned 8 positions
	 * at a time for those pairs; each field's pairs, and the keywords' */
	struct pf_first *first; /* per field id < nscan */
	struct pf_first *kwfirst;
	/* literals of 2 or 3 bytes: a bitmap of the byte pairs (and class)
	 * that start one, and a small hash table */
	uint64_t *pairs;       /* every class's region */
	uint64_t *kwpairs;     /* the keywords': 2^16 bits, the pair itself
	                          (a message tests one at each byte) */
	uint32_t *skey, *sval; /* open addressing: bytes (2 or 3, low byte
	                          first, | 1 << 24 for 3) -> literal id + 1 */
	uint32_t scap;         /* power of two; 0 when there are none */
	/* literals of 4 bytes or more: anchored 4-grams */
	uint64_t *bits;        /* every class's region: some anchor (of a
	                          literal of the class) hashes here */
	struct pf_gram *gtab;  /* open addressing by 4-gram */
	uint32_t gcap;         /* power of two */
	struct pf_anchor *anc; /* by gram */
	uint32_t nlong;        /* literals behind anchors */
	/* every literal */
	uint32_t nlits;
	char *ltext;           /* folded bytes of literal l: ltext + loff[l] */
	uint32_t *loff, *llen;
	struct pf_lit *lits;   /* per literal */
	uint32_t *prule;       /* posting: rule index << 1 | which of its two
	                          literal sets */
	uint32_t *pfield;      /* posting: field id, or FIELD_NONE for keywords */
	uint8_t *pat;          /* posting: the PF_AT_* its pattern needs */
	uint8_t *rneed;        /* per rule: the sets it needs (1, or 3 for
	                          both: two conjuncts each need a literal) */
	/* gates: the first mapping entry of a rule's group (its product,
	 * mostly); a literal only rules of failing gates need is skipped */
	uint32_t gate_entry[63]; /* bit -> mapping entry */
	uint32_t ngates;
	uint8_t *scan;         /* per field id < nscan: PF_SHORT and/or PF_LONG
	                          when a short or long literal posts there,
	                          PF_PART when one is looked for there as
	                          part of a value (not equality) */
	uint32_t nscan;
	/* A field that looks for whole values only (event.action: ssh_login)
	 * is not scanned: its value is looked up in a hash of the literals. */
	uint32_t *xlen;        /* per field id < nscan: its longest literal */
	uint64_t *fbit;        /* per field id < nscan: field_bit(id), read
	                          per value without the division */
	uint32_t *xslot;       /* open addressing: literal id + 1, 0 empty */
	uint32_t xcap;         /* power of two */
	uint8_t kwscan;        /* the same for keyword postings */
	int keywords;          /* some posting is a keyword */
	uint32_t nindexed;     /* rules behind the prefilter */
};

/* Per rule, side by side (detect_ruleset_finish): the group and needed
 * fields decide whether to evaluate it without touching the rule, then
 * the condition runs over the packed selections. */
#define WEQ_MAX 4
struct rule_eval {
	const struct cnode *cond;
	const struct sel *sels;
	const uint32_t *need;  /* rule_impl.need */
	uint32_t nneed;
	uint32_t group;
	/* a rule that is one selection ANDing wholeeq conditions (not
	 * negated): them, for detect_weq_and before the condition */
	uint32_t nweq;
	const struct fcond *weq[WEQ_MAX];
};

struct ruleset {
	atomic_uint refs;      /* the loader's, each ctx's, each live holder's */
	struct rule **rules;
	size_t nrules, caprules;
	struct lsgroup *groups;
	size_t ngroups;
	uint32_t *agroups;     /* the groups that have always-evaluated rules */
	uint32_t nagroups;
	uint8_t *needf;        /* per field id < nneedf: some rule evaluated
	                          for every event needs it */
	uint32_t nneedf;
	int need_any;          /* one of those rules needs no known field */
	uint32_t *needf_ids;   /* the ids of needf, when at most NEEDF_IDS_MAX
	                          (else NULL): looked up in the event's index
	                          rather than walking its entries */
	uint32_t nneedf_ids;
	struct map_ls *mls;
	size_t nmls;
	struct map_fields *mfs;
	size_t nmfs;
	struct placeholder *phs;
	size_t nphs;
	struct prefilter pf;
	struct ynode **corr;   /* correlation documents, kept for later */
	char **corr_files;     /* their files (the nodes point there) */
	size_t ncorr;
	uint32_t max_sels;
	struct rule_eval *reval; /* per rule: what evaluating it reads first */
	/* per field id (nact is FIELD_MAX: every id, FIELD_NONE's 0): what
	 * the prefilter's scan does with a value of the field (pf.scan,
	 * | ACT_KW for the message when keywords are looked for), so that
	 * the fields nothing reads cost one load */
	uint8_t *act;
	uint32_t nact;
};
#define ACT_KW 8
#define NEEDF_IDS_MAX 8

/*
 * The literals found in recent values (detect_scan.c): logs repeat the
 * same image paths, companies, channels and command lines, and what the
 * scan finds in a value depends on its bytes and the field alone (gates
 * and postings are applied afterwards, per event). Records live in a ring
 * of bytes (the value, then the ids of the literals found, in the order
 * found); a slot whose record the ring wrote over is stale.
 */
#define VC_SLOTS_LOG 13        /* 8192 slots */
#define VC_RING (1u << 20)     /* 1 MiB of records */
#define VC_MIN 4               /* shorter values are scanned, not looked up */
#define VC_MAX 2048            /* longer ones too */
#define VC_FOUND_MAX 128       /* a value holding more is not kept */
#define VC_WORDS 4096          /* nor one whose record needs more words */

struct vc_slot {
	uint64_t hash;         /* of the value and its field; 0: empty */
	uint64_t pos;          /* record start, in bytes ever written */
	uint32_t field;        /* field id, UINT32_MAX when keywords only */
	uint32_t len;          /* of the value */
	uint32_t nfound;
	uint8_t kw;
};

/* Per field: are its values worth looking up (do they repeat)? */
struct vc_stat {
	uint32_t looks, hits;
	uint32_t skip;         /* values to scan before looking again */
};

struct detect_ctx {
	const struct ruleset *rs;
	const struct rule **matches;
	size_t nmatches;
	uint8_t *group_ok;     /* per mapping entry: 1 passed, 2 failed, */
	uint32_t *group_ep;    /* when group_ep is this epoch (else unknown) */
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit;
	uint64_t re_limit_hits;
	const struct rule *cur;        /* the rule being evaluated */
	const struct rule *re_limit_rule; /* the last whose regex hit a limit */
	uint64_t events;
	/* prefilter scratch: stamps avoid clearing per event */
	uint32_t epoch;
	uint32_t scanned;      /* epoch whose event the prefilter scanned: its
	                          lseen then says which literals occur */
	uint32_t *rstamp;      /* per rule: epoch of rmask */
	uint8_t *rmask;        /* per rule: the sets hit; 0x80 once a candidate */
	struct pf_seen *lseen; /* per literal: its last hit */
	uint32_t *cands;       /* candidate rules of this event */
	size_t ncands;
	uint8_t *gstate;       /* per group: 1 passed, 2 failed, when */
	uint32_t *gstate_ep;   /* gstate_ep is this epoch (else unknown) */
	uint64_t gpass, gfail; /* gates known to pass or fail for this event */
	uint8_t *fold;         /* a value being scanned, case-folded */
	size_t foldcap;
	/* a value being matched against a cset (detect_match.c), folded,
	 * with 32 zero bytes after it: (vs, vlen) of event epoch vepoch */
	uint8_t *vfold;
	size_t vfoldcap;
	const char *vs;
	uint32_t vlen, vepoch;
	/* the value cache */
	struct vc_slot *vslots;
	uint8_t *vring;
	uint64_t vwpos;        /* bytes ever written to vring */
	struct vc_stat *vstat; /* per field id < pf.nscan, then keywords */
	uint32_t *vfound;      /* literals found in the value being scanned,
	                          id << 2 | PF_AT_* */
	uint32_t nvfound;
	int vrec;              /* recording them (0, 1, or 2: too many) */
	uint32_t *vwords;      /* a record being built (VC_WORDS) */
	uint32_t *vstamp;      /* per literal: vserial when recorded */
	uint32_t vserial;
	struct buf tmp;        /* explanations */
};

/* Load-time reporting: errors go to the diag sink and are counted. */
struct dload {
	struct vg_diag *d;
	const struct ruleset *rs; /* its placeholders, for |expand; may be NULL */
	int errors;            /* of the rule being compiled */
	int warnings;
};

void dl_error(struct dload *dl, const struct ynode *at, const char *fmt, ...)
    VG_PRINTF(3, 4);
void dl_error_at(struct dload *dl, const char *file, int line, int col,
    const char *fmt, ...) VG_PRINTF(5, 6);
void dl_warn(struct dload *dl, const struct ynode *at, const char *fmt, ...)
    VG_PRINTF(3, 4);

/* Field name translation for one rule's logsource. */
struct fieldmap {
	const struct map_fields **mfs;
	size_t n;
};

/* detect_sel.c: selections. `fm` may be NULL (mapping conditions). */
struct snode *detect_sel_compile(struct dload *dl, const struct ynode *val,
    const struct fieldmap *fm);
void detect_snode_free(struct snode *sn);

/* detect_value.c: Sigma strings and their transformations. */
struct slist {                 /* a value and its variants */
	struct sstr *v;
	size_t n, cap;
};

/* Parse a Sigma string value (wildcards and escapes); owned tokens. */
void detect_sstr_parse(const char *s, size_t len, struct sstr *out);
int detect_sstr_has_wild(const struct sstr *s);
void detect_slist_push(struct slist *l, struct sstr s);
void detect_slist_free(struct slist *l);
/* Each appends the variants of `in` (no wildcards) to out. */
void detect_xf_base64(const struct sstr *in, struct slist *out);
void detect_xf_base64offset(const struct sstr *in, struct slist *out);
/* -1 if `in` is not valid UTF-8. */
int detect_xf_utf16(const struct sstr *in, int big_endian, int bom,
    struct slist *out);
/* -1 if there are too many dashes to permute. */
int detect_xf_windash(const struct sstr *in, struct slist *out);
/* Event field ids for a Sigma field name under fm; owned array. */
uint32_t *detect_field_ids(const struct fieldmap *fm, const char *name,
    uint32_t *n);

/* detect_cond.c: conditions over selections. */
struct cnode *detect_cond_compile(struct dload *dl, const struct ynode *cond,
    const struct sel *sels, uint32_t nsels);
void detect_cnode_free(struct cnode *cn);

/* detect_match.c: evaluation. */
int detect_fc_eval(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct fcond *fc);
int detect_sn_eval(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct snode *sn);
int detect_cn_eval(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct rule_impl *ri, const struct cnode *cn);
/* The same over a rule's selections sels (rule_eval). */
int detect_cond_eval(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct sel *sels, const struct cnode *cn);
/* Set (by tests) to evaluate wholeeq conditions value by value. */
extern int detect_match_nowhole;
/* Was pattern k's literal of a wholeeq condition (seen in this event)
 * found in a string value of fc's fields as long as itself? Then that
 * value, folded, is the literal: a match (fcond.wholeeq). */
static inline __attribute__((always_inline)) int detect_whole_one(
    const struct detect_ctx *ctx, const struct vg_event *ev,
    const struct fcond *fc, uint32_t k)
{
	const struct pf_seen *sn = &ctx->lseen[fc->lits[k] - 1];
	const struct fent *f;

	if (sn->epoch != ctx->epoch || sn->entry >= ev->n)
		return 0;
	f = &ev->ents[sn->entry];
	if (f->dead || f->v.kind != V_STR || f->v.len != fc->pats[k].len)
		return 0;
	if (f->id == fc->fields[0])
		return 1; /* the usual condition: one field */
	for (uint32_t i = 1; i < fc->nfields; i++) {
		if (fc->fields[i] == f->id)
			return 1;
	}
	return 0;
}

/* The same for the patterns from k on, in a call. */
int detect_whole_rest(const struct detect_ctx *ctx, const struct vg_event *ev,
    const struct fcond *fc, uint32_t k);

/* A rule_eval's wholeeq conditions, ANDed, from the scan's hits alone:
 * 1 all hold, 0 one cannot (none of its literals is in the event), -1
 * the values must decide (detect_cond_eval). In line in detect_event. */
static inline int detect_weq_and(const struct detect_ctx *ctx,
    const struct vg_event *ev, const struct rule_eval *re)
{
	int r = 1;

	if (ctx->scanned != ctx->epoch || detect_match_nowhole)
		return -1;
	for (uint32_t i = 0; i < re->nweq; i++) {
		const struct fcond *fc = re->weq[i];
		uint32_t k;

		for (k = 0; k < fc->npats; k++) {
			if (ctx->lseen[fc->lits[k] - 1].epoch == ctx->epoch)
				break;
		}
		if (k == fc->npats)
			return 0; /* as fc_plain_eval: no literal, no match */
		if (r == 1 && !detect_whole_one(ctx, ev, fc, k) &&
		    !(k + 1 < fc->npats && detect_whole_rest(ctx, ev, fc, k + 1)))
			r = -1;
	}
	return r;
}
/* Is fc one that the short path evaluates (sets fc->plain)? */
int detect_fc_plain(const struct fcond *fc);
/* The distinct first bytes of a plain condition's needles, when it is a
 * list of CSET_MIN or more case-folded contains that no literal of the
 * prefilter rules out (a rule evaluated for every event): each value is
 * then passed over once for all of them. */
#define CSET_MIN 4
#define CSET_FIRST 16
struct cset {
	uint8_t n;                 /* distinct first bytes */
	uint8_t first[CSET_FIRST];
};
void detect_fc_cset(struct fcond *fc);
/* Does one value match one pattern (for explanations too). */
int detect_pat_match(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct fcond *fc, const struct pat *p, const struct value *v);
/* End (exclusive) of the group of patterns that starts at pats[b]. */
uint32_t detect_grp_end(const struct fcond *fc, uint32_t b);
/* Parse an address into the 128-bit form; 0 on success. */
int detect_addr_parse(const char *s, size_t len, uint8_t out[16], int *v4);

/* detect_map.c: mapping documents. */
int detect_is_mapping_doc(const struct ynode *root);
void detect_map_load(struct dload *dl, struct ruleset *rs,
    const struct ynode *root);
void detect_map_free(struct ruleset *rs);
/* The placeholder called name[0..len), or NULL. */
const struct placeholder *detect_placeholder(const struct ruleset *rs,
    const char *name, size_t len);
/* Does a mapping logsource (NULL members free) cover the rule's? */
int detect_ls_covers(const struct lsource *entry, const struct lsource *rule);

/* detect.c: free the conditions of a rule that detect_ruleset_finish
 * packed (ri->pack), and the block. */
void detect_pack_free(struct rule_impl *ri);
/* What the nodes of a packed selection own (not the nodes, nor the block). */
void detect_pack_sn_free(struct snode *sn);

/* detect.c: does mapping entry e accept ev (cached for this event) */
int detect_entry_ok(struct detect_ctx *ctx, const struct vg_event *ev,
    uint32_t e);

/* Gate bit 63: the rule has no gate; field bit 63: keywords. */
#define GATE_ALWAYS (1ull << 63)
#define FIELD_KW (1ull << 63)

static inline uint64_t field_bit(uint32_t field)
{
	return field == FIELD_NONE ? FIELD_KW : 1ull << (field % 63);
}

/* vg_lower of each of the 8 bytes of x: the bytes whose low 7 bits are
 * 'A'..'Z' and whose high bit is clear get 0x20 (no carry crosses bytes:
 * each sum stays below 0x100). */
static inline uint64_t fold8(uint64_t x)
{
	const uint64_t h = 0x8080808080808080ull;
	uint64_t t = x & ~h;
	uint64_t ge_a = t + 0x3f3f3f3f3f3f3f3full;  /* bit 7: t >= 'A' */
	uint64_t gt_z = t + 0x2525252525252525ull;  /* bit 7: t > 'Z' */

	return x | ((ge_a & ~gt_z & ~x & h) >> 2);
}

/* f[i..len) = s[i..len) folded, 8 bytes a step; a tail of a value of 8
 * bytes or more as its last 8 bytes again (some folded twice). */
static inline void fold_from(uint8_t *f, const char *s, size_t i, size_t len)
{
	uint64_t x;

	for (; i + 8 <= len; i += 8) {
		memcpy(&x, s + i, 8);
		x = fold8(x);
		memcpy(f + i, &x, 8);
	}
	if (i < len && len >= 8) {
		memcpy(&x, s + len - 8, 8);
		x = fold8(x);
		memcpy(f + len - 8, &x, 8);
		i = len;
	}
	for (; i < len; i++)
		f[i] = (uint8_t)vg_lower((unsigned char)s[i]);
}

/* detect_index.c: the prefilter's literals, from the rules' conditions. */
void detect_index_build(struct ruleset *rs);
void detect_index_free(struct prefilter *pf);
/* The canonical text of an integral number ("4688"); 0 if not one. */
int detect_int_text(double num, char out[32]);
/* detect_scan.c: the tables that find literals (pf's literals are in),
 * and the scan: put the rules whose literals ev holds in ctx->cands. */
void detect_scan_build(struct prefilter *pf);
/* Then the bitmaps, from every (literal, field) the scan looks for. */
void detect_scan_mark(struct prefilter *pf, struct pf_where *w, size_t n);
void detect_index_scan(const struct ruleset *rs, struct detect_ctx *ctx,
    const struct vg_event *ev);
/* Set (by tests) to scan with SSE2 where the CPU has AVX2 too. */
extern int detect_scan_noavx2;

/* detect_explain.c */
void detect_explain_rule(struct detect_ctx *ctx, const struct vg_event *ev,
    const struct rule *r, struct buf *out);

/* Small helpers shared by the loaders. */
char *detect_scalar_dup(const struct ynode *n);
struct ynode *detect_ynode_copy(const struct ynode *n);
/* A copy whose nodes name `file` (which must outlive it). */
struct ynode *detect_ynode_copy_in(const struct ynode *n, const char *file);
void detect_keep_correlation(struct ruleset *rs, const struct ynode *root,
    const char *file);
struct ruleset *detect_ruleset_new(void);
/* After every rule is in: per-group tables. */
void detect_ruleset_finish(struct ruleset *rs);
void detect_rule_free(struct rule *r);
void detect_ynode_free(struct ynode *n);
void detect_ls_free(struct lsource *ls);

#endif
