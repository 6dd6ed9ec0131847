/*
 * vg.h: helpers shared by every module: checked allocation, error records
 * (struct vg_err, first error wins) and load-time diagnostics (struct vg_diag)
 * that print `path:line:col: error: message` with the offending line and a caret.
 *
 * Nothing here touches the hot path except the allocation wrappers.
 */
#ifndef VG_H
#define VG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define VG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define VG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define VG_NORETURN __attribute__((noreturn))
#else
#define VG_PRINTF(f, a)
#define VG_NORETURN
#endif

/* Allocation that aborts on exhaustion: callers never test for NULL. */
void *vg_malloc(size_t n);
void *vg_calloc(size_t n, size_t size);
void *vg_realloc(void *p, size_t n);
char *vg_strdup(const char *s);
char *vg_strndup(const char *s, size_t n);

/* One error with its position; the first error set wins. */
struct vg_err {
	int set;
	char file[512];
	int line, col; /* 1-based; 0 when unknown */
	char msg[512];
};

/* Record an error in err (which may be NULL) unless one is already there. */
void vg_err_set(struct vg_err *err, const char *file, int line, int col,
    const char *fmt, ...) VG_PRINTF(5, 6);
void vg_err_clear(struct vg_err *err);

/*
 * Load-time diagnostics sink: every error and warning is printed once to
 * `out` (stderr by default; NULL silences printing) and counted.
 */
struct vg_diag {
	FILE *out;
	int errors;
	int warnings;
	int no_source; /* do not print the offending source line and caret */
};

void vg_diag_init(struct vg_diag *d, FILE *out);
void vg_diag_error(struct vg_diag *d, const char *file, int line, int col,
    const char *fmt, ...) VG_PRINTF(5, 6);
void vg_diag_warn(struct vg_diag *d, const char *file, int line, int col,
    const char *fmt, ...) VG_PRINTF(5, 6);
/* Report a vg_err as an error in d. */
void vg_diag_err(struct vg_diag *d, const struct vg_err *err);

/* Milliseconds since the epoch, wall clock and monotonic. */
int64_t vg_now_ms(void);
int64_t vg_mono_ms(void);

/* Read a whole file; returns owned buffer NUL-terminated, or NULL with errno. */
char *vg_read_file(const char *path, size_t *len);

/*
 * Expand files and folders into the sorted list of YAML files they hold
 * (*.yml, *.yaml; folders recursively, hidden entries skipped). A path given
 * as a file is kept whatever its name. Unreadable paths are reported to d.
 * Returns an owned array of owned strings (free with vg_free_list).
 */
char **vg_list_yaml(const char *const *paths, size_t npaths, size_t *nout,
    struct vg_diag *d);
void vg_free_list(char **list, size_t n);

/* ASCII case folding without locale. */
static inline unsigned char vg_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* Are the n bytes at a and b the same? Whole words, the last one
 * overlapping, never reading outside either: for the short strings of the
 * per-event paths, where a call to memcmp costs more than the compare. */
static inline int vg_same_bytes(const void *a, const void *b, size_t n)
{
	const char *p = a, *q = b;
	uint64_t x, y;
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 <= n; i += 8) {
			memcpy(&x, p + i, 8);
			memcpy(&y, q + i, 8);
			if (x != y)
				return 0;
		}
		if (i == n)
			return 1;
		memcpy(&x, p + n - 8, 8);
		memcpy(&y, q + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		uint32_t a0, a1, b0, b1;

		memcpy(&a0, p, 4);
		memcpy(&a1, p + n - 4, 4);
		memcpy(&b0, q, 4);
		memcpy(&b1, q + n - 4, 4);
		return a0 == b0 && a1 == b1;
	}
	for (i = 0; i < n; i++) {
		if (p[i] != q[i])
			return 0;
	}
	return 1;
}

#endif
