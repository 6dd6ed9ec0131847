/*
 * test_alert_prealloc.c: the alert file sink reserves the file's blocks
 * ahead of what it writes (fallocate, size kept), so appends find them
 * allocated; the file's size and content stay exactly what was written,
 * across a reopen (logrotate) too. The reservation itself is checked only
 * where the file system supports it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert.h"
#include "buf.h"
#include "unit.h"
#include "vg.h"

#define MIB (1024 * 1024)

/* Whether dir's file system can reserve blocks past the end of a file. */
static int can_reserve(const char *dir)
{
	char path[160];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/probe", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd < 0)
		return 0;
	ok = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4096) == 0;
	close(fd);
	unlink(path);
	return ok;
}

static char *slurp(const char *path, size_t *len)
{
	char *s = vg_read_file(path, len);

	if (s == NULL) {
		*len = 0;
		return vg_strdup("");
	}
	return s;
}

TEST(sink_reserves_ahead_and_keeps_size)
{
	char dir[] = "/tmp/vigil-prealloc-XXXXXX", path[160], rotated[170], *s;
	struct alert_sink *sink;
	struct stat st;
	struct buf line, want;
	size_t len;
	int reserve;

	CHECK(mkdtemp(dir) != NULL);
	reserve = can_reserve(dir);
	snprintf(path, sizeof(path), "%s/alerts.jsonl", dir);
	snprintf(rotated, sizeof(rotated), "%s.1", path);
	sink = alert_sink_open(path, 0, NULL);
	CHECK(sink != NULL);
	if (sink == NULL)
		return;

	/* 3 MiB in lines of 1000 bytes (buffered) and of 300 000 (direct) */
	buf_init(&line);
	buf_init(&want);
	for (int i = 0; i < 999; i++)
		buf_addc(&line, (char)('a' + i % 26));
	buf_addc(&line, '\n');
	while (want.len < 3 * MIB) {
		CHECK_INT(alert_sink_write(sink, line.p, line.len), 0);
		buf_add(&want, line.p, line.len);
		if (want.len % (500 * 1000) == 0) {
			struct buf big;

			buf_init(&big);
			while (big.len < 300000 - 1)
				buf_addc(&big, 'Z');
			buf_addc(&big, '\n');
			CHECK_INT(alert_sink_write(sink, big.p, big.len), 0);
			buf_add(&want, big.p, big.len);
			buf_free(&big);
		}
	}
	CHECK_INT(alert_sink_flush(sink), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_size, (long long)want.len);
	if (reserve)
		/* the first write reserved 8 MiB past its end, not yet
		 * reached */
		CHECK((long long)st.st_blocks * 512 > 8 * MIB);
	s = slurp(path, &len);
	CHECK_INT(len, want.len);
	CHECK(len == want.len && memcmp(s, want.p, len) == 0);
	free(s);

	/* rotated: the new file starts empty and holds exactly what follows */
	CHECK_INT(rename(path, rotated), 0);
	CHECK_INT(alert_sink_reopen(sink), 0);
	CHECK_INT(alert_sink_write(sink, "{\"after\":1}\n", 12), 0);
	alert_sink_close(sink);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_size, 12);
	s = slurp(path, &len);
	CHECK_STR(s, "{\"after\":1}\n");
	free(s);
	CHECK_INT(stat(rotated, &st), 0);
	CHECK_INT(st.st_size, (long long)want.len);

	/* appending to an existing file goes on from its size */
	sink = alert_sink_open(path, 0, NULL);
	CHECK(sink != NULL);
	if (sink != NULL) {
		CHECK_INT(alert_sink_write(sink, "{\"after\":2}\n", 12), 0);
		alert_sink_close(sink);
	}
	s = slurp(path, &len);
	CHECK_STR(s, "{\"after\":1}\n{\"after\":2}\n");
	free(s);

	buf_free(&line);
	buf_free(&want);
	unlink(path);
	unlink(rotated);
	rmdir(dir);
}

/*
 * A copy-and-truncate rotation empties the file under the sink: the
 * reservation follows the file's real end, so the blocks held are what was
 * written since plus at most one step ahead, not a reservation far past
 * the end that no append reaches.
 */
TEST(sink_reserves_from_the_real_end_after_truncation)
{
	char dir[] = "/tmp/vigil-prealloc-XXXXXX", path[160], chunk[4096];
	struct alert_sink *sink;
	struct stat st;
	size_t total = 0;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/alerts.jsonl", dir);
	memset(chunk, 'x', sizeof(chunk) - 1);
	chunk[sizeof(chunk) - 1] = '\n';
	sink = alert_sink_open(path, 0, NULL);
	CHECK(sink != NULL);
	if (sink == NULL)
		return;
	/* 40 MiB written, then the file is truncated to nothing */
	for (int i = 0; i < 40 * 256; i++)
		CHECK_INT(alert_sink_write(sink, chunk, sizeof(chunk)), 0);
	CHECK_INT(alert_sink_flush(sink), 0);
	CHECK_INT(truncate(path, 0), 0);
	/* 20 MiB more: the file holds exactly them */
	for (int i = 0; i < 20 * 256; i++) {
		CHECK_INT(alert_sink_write(sink, chunk, sizeof(chunk)), 0);
		total += sizeof(chunk);
	}
	CHECK_INT(alert_sink_flush(sink), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_size, (long long)total);
	if (can_reserve(dir))
		/* what was written, and at most 8 MiB and one buffer ahead */
		CHECK((long long)st.st_blocks * 512 <=
		    (long long)total + 9 * MIB);
	alert_sink_close(sink);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	RUN(sink_reserves_ahead_and_keeps_size);
	RUN(sink_reserves_from_the_real_end_after_truncation);
	return unit_done();
}
