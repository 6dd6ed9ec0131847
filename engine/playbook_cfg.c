/*
 * playbook_cfg.c: the YAML helpers of playbook_cfg.h. Messages name the key
 * path being read ("escalation_policies.default.steps[1].delay") so that an
 * error makes sense without the file open.
 */
#include "playbook_cfg.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void pbc_err(struct pbc *L, const struct ynode *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	L->errors++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n != NULL)
		vg_diag_error(L->d, n->file, n->line, n->col, "%s", msg);
	else
		vg_diag_error(L->d, NULL, 0, 0, "%s", msg);
}

void pbc_warn(struct pbc *L, const struct ynode *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n != NULL)
		vg_diag_warn(L->d, n->file, n->line, n->col, "%s", msg);
	else
		vg_diag_warn(L->d, NULL, 0, 0, "%s", msg);
}

int pbc_keys(struct pbc *L, const struct ynode *map, const char *what,
    const char *const *allowed, size_t nallowed, const struct ynode **vals)
{
	for (size_t a = 0; a < nallowed; a++)
		vals[a] = NULL;
	if (map == NULL || map->kind != YN_MAP) {
		pbc_err(L, map, "%s: expected a map, got %s", what,
		    ytree_kind_name(map));
		return -1;
	}
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i];
		size_t a;

		if (k->kind != YN_SCALAR) {
			pbc_err(L, k, "%s: keys must be strings, not %s", what,
			    ytree_kind_name(k));
			continue;
		}
		for (size_t j = 0; j < i; j += 2) {
			if (map->items[j]->kind == YN_SCALAR &&
			    strcmp(map->items[j]->str, k->str) == 0) {
				pbc_err(L, k, "%s: duplicate key '%s' (first at line %d)",
				    what, k->str, map->items[j]->line);
				break;
			}
		}
		for (a = 0; a < nallowed; a++) {
			if (strcmp(k->str, allowed[a]) == 0)
				break;
		}
		if (a == nallowed) {
			char list[512] = "";
			size_t used = 0;

			for (size_t b = 0; b < nallowed && used < sizeof(list); b++)
				used += (size_t)snprintf(list + used, sizeof(list) - used,
				    "%s%s", b ? ", " : "", allowed[b]);
			pbc_err(L, k, "%s: unknown key '%.64s' (expected %s)", what,
			    k->str, list);
			continue;
		}
		if (vals[a] == NULL && !ytree_is_null(map->items[i + 1]))
			vals[a] = map->items[i + 1];
	}
	return 0;
}

const char *pbc_str0(struct pbc *L, const struct ynode *n, const char *what)
{
	if (n == NULL || n->kind != YN_SCALAR) {
		pbc_err(L, n, "%s: expected a string, got %s", what,
		    ytree_kind_name(n));
		return NULL;
	}
	if (strlen(n->str) != n->len) {
		pbc_err(L, n, "%s: NUL byte in string", what);
		return NULL;
	}
	return n->str;
}

const char *pbc_str(struct pbc *L, const struct ynode *n, const char *what)
{
	const char *s = pbc_str0(L, n, what);

	if (s != NULL && *s == '\0') {
		pbc_err(L, n, "%s: must not be empty", what);
		return NULL;
	}
	return s;
}

const char *pbc_name(struct pbc *L, const struct ynode *n, const char *what)
{
	const char *s = pbc_str(L, n, what);

	if (s == NULL)
		return NULL;
	if (n->len > 128) {
		pbc_err(L, n, "%s: name longer than 128 characters", what);
		return NULL;
	}
	for (size_t i = 0; i < n->len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) {
			pbc_err(L, n, "%s: '%.64s' is not a valid name (letters, "
			    "digits, '_', '-', '.')", what, s);
			return NULL;
		}
	}
	return s;
}

void pbc_free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int pbc_strlist(struct pbc *L, const struct ynode *n, const char *what,
    char ***out, size_t *nout)
{
	char **v;
	size_t k = 0;
	int bad = 0;

	*out = NULL;
	*nout = 0;
	if (n != NULL && n->kind == YN_SCALAR) {
		const char *s = pbc_str(L, n, what);

		if (s == NULL)
			return -1;
		v = vg_malloc(sizeof(*v));
		v[0] = vg_strdup(s);
		*out = v;
		*nout = 1;
		return 0;
	}
	if (n == NULL || n->kind != YN_SEQ) {
		pbc_err(L, n, "%s: expected a string or a list of strings, got %s",
		    what, ytree_kind_name(n));
		return -1;
	}
	v = vg_calloc(n->n ? n->n : 1, sizeof(*v));
	for (size_t i = 0; i < n->n; i++) {
		const char *s = pbc_str(L, n->items[i], what);

		if (s == NULL) {
			bad = 1;
			continue;
		}
		v[k++] = vg_strdup(s);
	}
	if (bad) {
		pbc_free_list(v, k);
		return -1;
	}
	*out = v;
	*nout = k;
	return 0;
}

int pbc_long(struct pbc *L, const struct ynode *n, const char *what, long lo,
    long hi, long *out)
{
	long v = 0;
	size_t i = 0;
	int neg = 0;

	if (n == NULL || n->kind != YN_SCALAR || n->len == 0 || n->len > 18)
		goto bad;
	if (n->str[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n->len)
		goto bad;
	for (; i < n->len; i++) {
		if (n->str[i] < '0' || n->str[i] > '9')
			goto bad;
		v = v * 10 + (n->str[i] - '0');
	}
	if (neg)
		v = -v;
	if (v < lo || v > hi)
		goto bad;
	*out = v;
	return 0;
bad:
	pbc_err(L, n, "%s: expected an integer from %ld to %ld", what, lo, hi);
	return -1;
}

int pbc_bool(struct pbc *L, const struct ynode *n, const char *what, int *out)
{
	if (ytree_bool(n, out) < 0) {
		pbc_err(L, n, "%s: expected true or false", what);
		return -1;
	}
	return 0;
}

int pbc_parse_duration(const char *s, int64_t *ms)
{
	int64_t total = 0;
	size_t i = 0;

	if (s == NULL || *s == '\0')
		return -1;
	if (strspn(s, "0123456789") == strlen(s)) {
		int64_t v = 0;

		if (strlen(s) > 12)
			return -1;
		for (; s[i]; i++)
			v = v * 10 + (s[i] - '0');
		*ms = v * 1000;
		return 0;
	}
	while (s[i] != '\0') {
		int64_t v = 0, unit;
		size_t start = i;

		for (; s[i] >= '0' && s[i] <= '9'; i++) {
			if (i - start >= 12)
				return -1;
			v = v * 10 + (s[i] - '0');
		}
		if (i == start)
			return -1;
		if (s[i] == 'm' && s[i + 1] == 's') {
			unit = 1;
			i += 2;
		} else {
			switch (s[i]) {
			case 's': unit = 1000; break;
			case 'm': unit = 60 * 1000; break;
			case 'h': unit = 3600 * 1000; break;
			case 'd': unit = 86400 * 1000; break;
			case 'w': unit = 7 * 86400 * 1000LL; break;
			default: return -1;
			}
			i++;
		}
		/* v < 10^12 and unit < 10^9: no overflow; cap the sum */
		total += v * unit;
		if (total > INT64_C(1) << 52)
			return -1;
	}
	*ms = total;
	return 0;
}

int pbc_parse_size(const char *s, size_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= 12)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (s[i] == 'k' || s[i] == 'K') {
		v <<= 10;
		i++;
	} else if (s[i] == 'm' || s[i] == 'M') {
		v <<= 20;
		i++;
	}
	if (s[i] == 'b' || s[i] == 'B')
		i++;
	if (s[i] != '\0' || v > ((uint64_t)1 << 40))
		return -1;
	*out = (size_t)v;
	return 0;
}

/* ms as the duration grammar writes it ("1h30m", "500ms"). */
static void fmt_dur(int64_t ms, char *out, size_t cap)
{
	static const struct { int64_t ms; const char *u; } units[] = {
		{ 7 * 86400000LL, "w" }, { 86400000LL, "d" }, { 3600000, "h" },
		{ 60000, "m" }, { 1000, "s" }, { 1, "ms" },
	};
	size_t used = 0;

	out[0] = '\0';
	if (ms <= 0) {
		snprintf(out, cap, "0s");
		return;
	}
	for (size_t i = 0; i < VG_ARRAY_LEN(units) && ms > 0; i++) {
		if (ms >= units[i].ms && used < cap) {
			used += (size_t)snprintf(out + used, cap - used, "%lld%s",
			    (long long)(ms / units[i].ms), units[i].u);
			ms %= units[i].ms;
		}
	}
}

int pbc_duration(struct pbc *L, const struct ynode *n, const char *what,
    int64_t lo, int64_t hi, int64_t *ms)
{
	char a[64], b[64];

	int64_t v;

	if (n == NULL || n->kind != YN_SCALAR || strlen(n->str) != n->len ||
	    pbc_parse_duration(n->str, &v) < 0) {
		pbc_err(L, n, "%s: expected a duration like 30s, 15m, 1h or 1w",
		    what);
		return -1;
	}
	if (v < lo || v > hi) {
		fmt_dur(lo, a, sizeof(a));
		fmt_dur(hi, b, sizeof(b));
		pbc_err(L, n, "%s: %s is out of range (%s to %s)", what, n->str,
		    a, b);
		return -1;
	}
	*ms = v;
	return 0;
}
