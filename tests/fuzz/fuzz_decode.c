/*
 * fuzz_decode.c: the shipped decoders (parsers/, loaded once; run from the
 * repository root) on arbitrary messages. The first byte picks the program
 * name from the programs the decoders know, plus an unknown one and none;
 * byte 0xff instead takes the name from the input, up to the first ':'.
 * The rest is the message. Checks what decode_event promises: a decoder
 * name exactly when it says so, fields NUL-terminated at their length,
 * numbers only where a value parsed as one, and no PCRE2 errors other than
 * counted limit hits.
 *
 * Two more first bytes fuzz the loader: 0xfe loads the rest as a decoder
 * file (through a temporary file) and decodes a few lines with it; 0xfd
 * parses the rest as YAML and runs the group renaming and the error
 * position mapping on every scalar at every offset.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "decode.h"
#include "decode_int.h"
#include "event.h"
#include "ytree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const progs[] = {
	"sshd", "sshd-session", "sudo", "su", "CRON", "crontab", "kernel",
	"nginx", "apache2", "postfix/smtpd", "postfix/smtp", "useradd",
	"usermod", "groupadd", "passwd", "systemd-logind", "login", NULL,
};

static void check(const struct vg_event *ev, const char *name)
{
	if (name != ev->decoder)
		abort();
	for (uint32_t i = 0; i < ev->n; i++) {
		const struct value *v = &ev->ents[i].v;

		if (v->s == NULL || v->s[v->len] != '\0')
			abort();
		if (v->kind == V_NUM && v->len == 0)
			abort();
	}
}

static void walk_scalars(const struct ynode *n, const char *src, size_t len)
{
	if (n == NULL)
		return;
	if (n->kind == YN_SCALAR) {
		char *out = malloc(n->len + 1);
		struct gdef *defs = NULL;
		size_t ndefs = 0;
		int line, col;

		decode_rewrite_names(n->str, n->len, out, &defs, &ndefs);
		if (out[n->len] != '\0')
			abort();
		for (size_t i = 0; i < ndefs; i++)
			if (defs[i].off + defs[i].len > n->len)
				abort();
		for (size_t off = 0; off <= n->len; off++) {
			decode_scalar_pos(src, len, n, off, &line, &col);
			if (line < 1 || col < 1)
				abort();
		}
		free(defs);
		free(out);
		return;
	}
	for (size_t i = 0; i < n->n; i++)
		walk_scalars(n->items[i], src, len);
}

/* The rest of the input as a decoder file. */
static void fuzz_loader(const uint8_t *data, size_t size, struct vg_event *ev)
{
	static char path[64];
	static const char *const lines[] = { "x", "Failed password for root from 1.2.3.4 port 1 ssh2", "" };
	const char *p = path;
	struct decode_set *set;
	struct decode_ctx *ctx;
	FILE *f;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/vigil-fuzz-decode-%d.yml", (int)getpid());
	if ((f = fopen(path, "wb")) == NULL)
		return;
	fwrite(data, 1, size, f);
	fclose(f);
	set = decode_load(&p, 1, NULL, NULL);
	ctx = decode_ctx_new(set);
	for (size_t i = 0; i < VG_ARRAY_LEN(lines); i++) {
		const char *name;

		vg_event_reset(ev);
		vg_event_add(ev, F_PROCESS_NAME, "x", 1);
		vg_event_add(ev, F_MESSAGE, lines[i], strlen(lines[i]));
		name = decode_event(set, ctx, ev);
		check(ev, name);
	}
	decode_ctx_free(ctx);
	decode_free(set);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct decode_set *set;
	static struct decode_ctx *ctx;
	static struct vg_event *ev;
	struct decode_ctx_stats st;
	const char *prog = NULL, *msg;
	size_t plen = 0, mlen;
	const char *name;

	if (set == NULL) {
		const char *path = getenv("VIGIL_PARSERS");

		if (path == NULL)
			path = "parsers";
		set = decode_load(&path, 1, NULL, NULL);
		if (decode_count(set) == 0)
			abort(); /* not run from the repository root */
		ctx = decode_ctx_new(set);
		ev = vg_event_new();
	}
	if (size == 0)
		return 0;
	msg = (const char *)data + 1;
	mlen = size - 1;
	if (data[0] == 0xfe) {
		fuzz_loader(data + 1, size - 1, ev);
		return 0;
	}
	if (data[0] == 0xfd) {
		struct ydoc *docs;
		size_t ndocs;

		if (ytree_parse("fuzz", msg, mlen, &docs, &ndocs, NULL) == 0) {
			for (size_t i = 0; i < ndocs; i++)
				walk_scalars(docs[i].root, msg, mlen);
			ytree_free_docs(docs, ndocs);
		}
		return 0;
	}
	if (data[0] == 0xff) {
		const char *colon = memchr(msg, ':', mlen);

		if (colon != NULL) {
			prog = msg;
			plen = (size_t)(colon - msg);
			mlen -= plen + 1;
			msg = colon + 1;
		}
	} else if (progs[data[0] % VG_ARRAY_LEN(progs)] != NULL) {
		prog = progs[data[0] % VG_ARRAY_LEN(progs)];
		plen = strlen(prog);
	}
	vg_event_reset(ev);
	if (prog != NULL)
		vg_event_add(ev, F_PROCESS_NAME, prog, plen);
	vg_event_add(ev, F_MESSAGE, msg, mlen);
	name = decode_event(set, ctx, ev);
	check(ev, name);
	decode_ctx_get_stats(ctx, &st);
	if (st.match_errors != 0)
		abort();
	return 0;
}
