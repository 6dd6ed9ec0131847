/*
 * fuzz_framing.c: the stream framer under arbitrary streams and feed
 * boundaries. The input's first bytes pick max_frame, a cycle of chunk
 * sizes and when the callback pauses; the rest is the stream. It is framed
 * once in a single feed and once in those chunks (each a fresh heap copy,
 * freed after its feed), and the run traps when:
 *  - a frame is empty, longer than max_frame or carries unknown flags;
 *  - the frames delivered hold more bytes than the stream;
 *  - the counters disagree with the frames seen or the bytes fed;
 *  - more than max_frame + 16 bytes are held between feeds;
 *  - a feed consumes nothing, or more than it was given;
 *  - the two runs deliver different frames.
 *
 * Layout: [0] max_frame (1..48, or the default from 0xf0 up),
 *         [1..4] chunk sizes 1..256, cycled, [5] pause mask, then the stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR 6
#define ALL_FLAGS \
	(FRAMING_OCTET | FRAMING_TRUNCATED | FRAMING_PARTIAL | FRAMING_BADCOUNT)

struct fz {
	size_t max;
	uint64_t frames, octet, bytes, digest;
	unsigned pause_mask;
};

static void fz_check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static int fz_cb(void *arg, const char *p, size_t len, unsigned flags)
{
	struct fz *z = arg;
	size_t i;

	fz_check(len >= 1 && len <= z->max);
	fz_check((flags & ~(unsigned)ALL_FLAGS) == 0);
	/* Order-sensitive digest of flags, length and bytes. */
	z->digest = (z->digest ^ flags) * 1099511628211u;
	z->digest = (z->digest ^ len) * 1099511628211u;
	for (i = 0; i < len; i++)
		z->digest = (z->digest ^ (unsigned char)p[i]) * 1099511628211u;
	z->frames++;
	if (flags & FRAMING_OCTET)
		z->octet++;
	z->bytes += len;
	return z->pause_mask && (z->frames & z->pause_mask) == 0;
}

static void fz_run(struct fz *z, const uint8_t *s, size_t len, size_t max,
    const uint8_t *sizes, int chunked)
{
	struct framing *f = framing_new(max);
	const struct framing_stats *st;
	size_t pos = 0, k = 0;

	z->max = framing_max_frame(f);
	while (pos < len) {
		size_t n = chunked ? 1 + (size_t)sizes[k++ % 4] : len;
		size_t done = 0;
		char *chunk;

		if (n > len - pos)
			n = len - pos;
		chunk = malloc(n);
		fz_check(chunk != NULL);
		memcpy(chunk, s + pos, n);
		while (done < n) {
			size_t got = framing_feed(f, chunk + done, n - done,
			    fz_cb, z);

			fz_check(got > 0 && got <= n - done);
			fz_check(z->pause_mask != 0 || got == n - done);
			fz_check(framing_pending(f) <= z->max + 16);
			done += got;
		}
		free(chunk);
		pos += n;
	}
	framing_finish(f, fz_cb, z);
	st = framing_stats(f);
	fz_check(framing_pending(f) == 0);
	fz_check(st->frames == z->frames);
	fz_check(st->octet_frames == z->octet);
	fz_check(st->octet_frames + st->lf_frames == st->frames);
	fz_check(st->truncated <= st->frames && st->partial <= 1);
	fz_check(st->bad_count <= st->lf_frames);
	fz_check(st->bytes == len);
	fz_check(z->bytes <= len);
	framing_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz whole, parts;
	size_t max;

	if (size < HDR)
		return 0;
	max = data[0] >= 0xf0 ? 0 : 1 + data[0] % 48;
	memset(&whole, 0, sizeof(whole));
	memset(&parts, 0, sizeof(parts));
	parts.pause_mask = data[5] & 3;
	fz_run(&whole, data + HDR, size - HDR, max, data + 1, 0);
	fz_run(&parts, data + HDR, size - HDR, max, data + 1, 1);
	fz_check(whole.frames == parts.frames);
	fz_check(whole.octet == parts.octet);
	fz_check(whole.bytes == parts.bytes);
	fz_check(whole.digest == parts.digest);
	return 0;
}
