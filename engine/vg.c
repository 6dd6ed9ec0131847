/*
 * vg.c: allocation wrappers, error records and load-time diagnostics.
 */
#define _POSIX_C_SOURCE 200809L
#include "vg.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static VG_NORETURN void oom(size_t n)
{
	fprintf(stderr, "vigil: out of memory allocating %zu bytes\n", n);
	abort();
}

void *vg_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom(n);
	return p;
}

void *vg_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		oom(n * size);
	return p;
}

void *vg_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		oom(n);
	return q;
}

char *vg_strdup(const char *s)
{
	return vg_strndup(s, strlen(s));
}

char *vg_strndup(const char *s, size_t n)
{
	char *p = vg_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void vg_err_set(struct vg_err *err, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err->set)
		return;
	err->set = 1;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void vg_err_clear(struct vg_err *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

void vg_diag_init(struct vg_diag *d, FILE *out)
{
	memset(d, 0, sizeof(*d));
	d->out = out;
}

/* Print line `line` of `file` and a caret under column `col`. */
static void print_source(FILE *out, const char *file, int line, int col)
{
	FILE *f;
	char buf[512];
	int n = 1;

	if (file == NULL || *file == '\0' || line <= 0)
		return;
	if ((f = fopen(file, "r")) == NULL)
		return;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		size_t len = strlen(buf);
		int whole = len > 0 && buf[len - 1] == '\n';

		if (n == line) {
			if (whole)
				buf[--len] = '\0';
			fprintf(out, "  %s\n", buf);
			if (col > 0 && (size_t)col <= len + 1) {
				fprintf(out, "  ");
				for (int i = 1; i < col; i++)
					fputc(buf[i - 1] == '\t' ? '\t' : ' ', out);
				fputs("^\n", out);
			}
			break;
		}
		if (whole)
			n++;
	}
	fclose(f);
}

static void diag_vprint(struct vg_diag *d, const char *sev, const char *file,
    int line, int col, const char *fmt, va_list ap) VG_PRINTF(6, 0);

static void diag_vprint(struct vg_diag *d, const char *sev, const char *file,
    int line, int col, const char *fmt, va_list ap)
{
	if (d == NULL || d->out == NULL)
		return;
	if (file != NULL && *file != '\0') {
		if (line > 0)
			fprintf(d->out, "%s:%d:%d: ", file, line, col > 0 ? col : 1);
		else
			fprintf(d->out, "%s: ", file);
	}
	fprintf(d->out, "%s: ", sev);
	vfprintf(d->out, fmt, ap);
	fputc('\n', d->out);
	if (!d->no_source)
		print_source(d->out, file, line, col);
}

void vg_diag_error(struct vg_diag *d, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list ap;

	if (d == NULL)
		return;
	d->errors++;
	va_start(ap, fmt);
	diag_vprint(d, "error", file, line, col, fmt, ap);
	va_end(ap);
}

void vg_diag_warn(struct vg_diag *d, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list ap;

	if (d == NULL)
		return;
	d->warnings++;
	va_start(ap, fmt);
	diag_vprint(d, "warning", file, line, col, fmt, ap);
	va_end(ap);
}

void vg_diag_err(struct vg_diag *d, const struct vg_err *err)
{
	if (err == NULL || !err->set)
		return;
	vg_diag_error(d, err->file, err->line, err->col, "%s", err->msg);
}

int64_t vg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t vg_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *vg_read_file(const char *path, size_t *lenp)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			buf = vg_realloc(buf, cap + 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;
		free(buf);
		fclose(f);
		errno = e ? e : EIO;
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
	return buf;
}

struct list {
	char **v;
	size_t n, cap;
};

static void list_push(struct list *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = vg_realloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = s;
}

static int is_yaml_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	    (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk(const char *path, struct list *out, struct vg_diag *d, int depth)
{
	DIR *dir;
	struct dirent *de;
	struct list names = { 0 };

	if (depth > 64) {
		vg_diag_error(d, path, 0, 0, "folders nested too deeply");
		return;
	}
	if ((dir = opendir(path)) == NULL) {
		vg_diag_error(d, path, 0, 0, "cannot open folder: %s", strerror(errno));
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] != '.')
			list_push(&names, vg_strdup(de->d_name));
	}
	closedir(dir);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (size_t i = 0; i < names.n; i++) {
		size_t len = strlen(path) + strlen(names.v[i]) + 2;
		char *full = vg_malloc(len);
		struct stat sb;

		snprintf(full, len, "%s/%s", path, names.v[i]);
		if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			walk(full, out, d, depth + 1);
			free(full);
		} else if (is_yaml_name(names.v[i])) {
			list_push(out, full);
		} else {
			free(full);
		}
		free(names.v[i]);
	}
	free(names.v);
}

char **vg_list_yaml(const char *const *paths, size_t npaths, size_t *nout,
    struct vg_diag *d)
{
	struct list out = { 0 };

	for (size_t i = 0; i < npaths; i++) {
		struct stat sb;

		if (stat(paths[i], &sb) < 0) {
			vg_diag_error(d, paths[i], 0, 0, "%s", strerror(errno));
			continue;
		}
		if (S_ISDIR(sb.st_mode))
			walk(paths[i], &out, d, 0);
		else
			list_push(&out, vg_strdup(paths[i]));
	}
	*nout = out.n;
	return out.v;
}

void vg_free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}
