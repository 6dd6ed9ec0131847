/*
 * loadgen.c: `vigil loadgen` sends syslog load to a receiver (vigild,
 * rsyslog, syslog-ng) over UDP, TCP (LF or RFC 6587 octet-counted framing)
 * or TLS, at a given total rate over N connections, and reports exactly how
 * many messages and bytes it sent and how fast.
 *
 * Messages come from a file (its lines, cycled, sent as they are) or are
 * generated: realistic sshd, sudo, cron, kernel, logind and postfix lines
 * whose process id (and, in RFC 5424, meta sequenceId) is a sequence number
 * that starts at 1 and is handed out in increasing order across all
 * connections, so a receiver can verify loss and per-connection order.
 *
 * One thread per connection with non-blocking sockets and poll: large
 * writes for streams, sendmmsg for UDP. A file is framed once at load and
 * sent straight out of memory. The rate is one token bucket shared by all
 * connections. A stream is half-closed at the end and loadgen waits (up to
 * --wait seconds) for the receiver to close it, which says the receiver
 * read everything: the time reported includes that wait.
 *
 * It does not read anything the receiver sends, retry a lost connection,
 * or measure latency.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"
#include "vg.h"

/* Declared here rather than in tool.h, which belongs to the tool's core. */

#define LG_NAME "vigil loadgen"
#define LG_MAX_BATCH 4096          /* messages per write / sendmmsg round */
#define LG_UDP_BATCH 256
#define LG_STREAM_BATCH_BYTES (512 * 1024)
#define LG_UDP_MAX 65507           /* largest UDP payload over IPv4 */
#define LG_STREAM_MAX (1u << 20)   /* largest message loadgen sends on a stream */
#define LG_CONNECT_TIMEOUT_MS 10000
#define LG_MAX_CONNECTIONS 10000
#define LG_POLL_MS 200

enum lg_proto { LG_UDP, LG_TCP, LG_TLS };
enum lg_format { LG_RFC3164, LG_RFC5424, LG_JSON };

struct lg_opts {
	const char *target;
	enum lg_proto proto;
	char host[256];
	char port[8];
	int octet;               /* RFC 6587 octet counting, else LF */
	int connections;
	double rate;             /* messages/s over all connections; 0: unlimited */
	uint64_t count;          /* 0: until --duration or a signal */
	double duration;         /* seconds; 0: no limit */
	const char *file;
	enum lg_format format;
	const char *hostname;
	size_t size;             /* pad generated messages to this many bytes */
	const char *ca, *cert, *key, *servername;
	int insecure;
	double wait;             /* seconds to wait for the receiver to close */
	double interval;         /* progress every this many seconds */
	int quiet, progress, json;
};

/* A file's lines, framed for the target, back to back; message i is
 * data[off[i] .. off[i + 1]). */
struct corpus {
	char *data;
	size_t *off;
	size_t n;
};

struct bucket {
	pthread_mutex_t mu;
	double rate, tokens, burst;
	int64_t last_ns;
};

struct lg;

struct conn {
	struct lg *lg;
	int id;                  /* from 1 */
	int fd;
	SSL *ssl;
	pthread_t th;
	int started;
	char host[300];          /* host name in generated messages */
	size_t batch;            /* messages per round */
	uint64_t left;           /* --count: this connection's share still to send */
	/* generated messages (stream: framed back to back; udp: one per iov) */
	char *buf;
	size_t cap;
	size_t *ends;            /* stream: end offset of each message in buf */
	char *scratch;           /* one message before framing */
	struct iovec *iov;
	struct mmsghdr *mm;
	/* time stamps of the current second */
	time_t ts_sec;
	char ts3164[64], ts5424[96];
	/* counts: written by this thread, read by the reporter */
	_Atomic uint64_t msgs, bytes;
	uint64_t refused;        /* udp: ICMP port unreachable reports */
	int failed;              /* an error, in err */
	int interrupted;         /* a second signal stopped a write midway */
	int unconfirmed;         /* stream: the receiver did not close in time */
	char err[320];
};

struct lg {
	struct lg_opts o;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	SSL_CTX *ctx;
	struct corpus corpus;
	int have_corpus;
	size_t maxmsg;           /* largest generated message */
	_Atomic uint64_t next;   /* sequence numbers handed out */
	struct bucket bucket;
	struct conn *conns;
	pthread_mutex_t mu;      /* with cv: connections tell main they ended */
	pthread_cond_t cv;
	int ndone;
};

/* 0 running, 1 stop after the write in progress, 2 stop now. */
static atomic_int lg_stop;

static void lg_signal_cb(int sig)
{
	(void)sig;
	if (atomic_load(&lg_stop) == 0)
		atomic_store(&lg_stop, 1);
	else
		atomic_store(&lg_stop, 2);
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts;

	if (ns <= 0)
		return;
	ts.tv_sec = (time_t)(ns / 1000000000);
	ts.tv_nsec = (long)(ns % 1000000000);
	nanosleep(&ts, NULL);
}

static void usage(FILE *out)
{
	fputs("usage: vigil loadgen --target udp://HOST:PORT|tcp://HOST:PORT|tls://HOST:PORT [options]\n"
	    "\n"
	    "  -t, --target URL       where to send; IPv6 addresses in brackets: tcp://[::1]:5514\n"
	    "      --octet-counting   RFC 6587 octet-counted framing (tcp, tls); default LF\n"
	    "  -c, --connections N    connections (udp: sockets) sending at once (default 1)\n"
	    "  -r, --rate N           messages per second over all connections (default: as fast as possible)\n"
	    "  -n, --count N          send N messages in all (shared evenly by the connections)\n"
	    "  -d, --duration SECS    stop after SECS seconds\n"
	    "                         (neither: run until SIGINT/SIGTERM; a second one stops at once)\n"
	    "  -f, --file FILE        send FILE's lines as they are, cycling (`-` is stdin);\n"
	    "                         default: generated sshd/sudo/cron/kernel/logind/postfix lines\n"
	    "      --format F         generated messages: rfc3164 (default), rfc5424 or json\n"
	    "      --hostname NAME    host name in generated messages (default loadgen; with\n"
	    "                         several connections NAME-C, C the connection number)\n"
	    "      --size BYTES       pad generated messages to BYTES\n"
	    "      --ca FILE          tls: verify the server against this CA (default: system CAs)\n"
	    "      --cert FILE        tls: client certificate (PEM)\n"
	    "      --key FILE         tls: its private key (PEM; default: in --cert)\n"
	    "      --servername NAME  tls: name to verify and send as SNI (default: the target host)\n"
	    "      --insecure         tls: do not verify the server certificate\n"
	    "      --wait SECS        tcp, tls: after the last message, half-close and wait up to\n"
	    "                         SECS (default 30; 0: do not wait) for the receiver to close,\n"
	    "                         which confirms it read everything\n"
	    "      --interval SECS    progress report period (default 1)\n"
	    "      --progress         progress on stderr even when it is not a terminal\n"
	    "  -q, --quiet            no progress, even on a terminal\n"
	    "      --json             also print the summary as one JSON object on stdout\n"
	    "\n"
	    "Generated messages carry a sequence number from 1 as process id (and, in\n"
	    "rfc5424, [meta sequenceId]), increasing per connection.\n"
	    "The summary line on stderr gives exact counts: messages, bytes, seconds,\n"
	    "msgs/s, MB/s (10^6 bytes).\n"
	    "Exit: 0 done, 1 failure (resolve, connect, TLS, send, file), 2 usage error.\n", out);
}

/* ---- options ---------------------------------------------------------- */

static int bad_target(const char *t, const char *why)
{
	fprintf(stderr, LG_NAME ": bad target '%s': %s\n", t, why);
	return -1;
}

/* Split SCHEME://HOST:PORT; [v6]:PORT for IPv6. */
static int parse_target(struct lg_opts *o, const char *t)
{
	const char *hp, *colon, *h;
	size_t hlen, slen;
	char *end;
	long port;

	hp = strstr(t, "://");
	if (hp == NULL)
		return bad_target(t, "expected udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT");
	slen = (size_t)(hp - t);
	if (slen == 3 && strncmp(t, "udp", 3) == 0)
		o->proto = LG_UDP;
	else if (slen == 3 && strncmp(t, "tcp", 3) == 0)
		o->proto = LG_TCP;
	else if (slen == 3 && strncmp(t, "tls", 3) == 0)
		o->proto = LG_TLS;
	else
		return bad_target(t, "unknown scheme (use udp, tcp or tls)");
	hp += 3;
	if (hp[0] == '[') {
		const char *rb = strchr(hp, ']');

		if (rb == NULL)
			return bad_target(t, "missing ']' after the IPv6 address");
		h = hp + 1;
		hlen = (size_t)(rb - h);
		if (rb[1] != ':')
			return bad_target(t, "missing port");
		colon = rb + 1;
	} else {
		colon = strrchr(hp, ':');
		if (colon == NULL)
			return bad_target(t, "missing port");
		if (memchr(hp, ':', (size_t)(colon - hp)) != NULL)
			return bad_target(t, "IPv6 addresses go in brackets, e.g. tcp://[::1]:5514");
		h = hp;
		hlen = (size_t)(colon - hp);
	}
	if (hlen == 0)
		return bad_target(t, "missing host");
	if (hlen >= sizeof(o->host))
		return bad_target(t, "host name too long");
	if (memchr(h, '/', hlen) != NULL)
		return bad_target(t, "expected SCHEME://HOST:PORT with no path");
	if (colon[1] == '\0')
		return bad_target(t, "missing port");
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || colon[1] < '0' || colon[1] > '9')
		return bad_target(t, "port is not a number");
	if (port < 1 || port > 65535)
		return bad_target(t, "port must be 1..65535");
	memcpy(o->host, h, hlen);
	o->host[hlen] = '\0';
	snprintf(o->port, sizeof(o->port), "%ld", port);
	o->target = t;
	return 0;
}

static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max,
    uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < min ||
	    v > max) {
		fprintf(stderr, LG_NAME ": %s: '%s' is not a whole number in %llu..%llu\n",
		    opt, s, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_secs(const char *opt, const char *s, int zero_ok, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < 0 ||
	    (v == 0 && !zero_ok) || v > 1e9) {
		fprintf(stderr, LG_NAME ": %s: '%s' is not a %s number\n", opt, s,
		    zero_ok ? "non-negative" : "positive");
		return -1;
	}
	*out = v;
	return 0;
}

enum {
	OPT_OCTET = 256, OPT_FORMAT, OPT_HOSTNAME, OPT_SIZE, OPT_CA, OPT_CERT,
	OPT_KEY, OPT_SERVERNAME, OPT_INSECURE, OPT_WAIT, OPT_INTERVAL,
	OPT_PROGRESS, OPT_JSON,
};

static const struct option lg_longopts[] = {
	{ "target", required_argument, NULL, 't' },
	{ "octet-counting", no_argument, NULL, OPT_OCTET },
	{ "connections", required_argument, NULL, 'c' },
	{ "rate", required_argument, NULL, 'r' },
	{ "count", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "file", required_argument, NULL, 'f' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "servername", required_argument, NULL, OPT_SERVERNAME },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "wait", required_argument, NULL, OPT_WAIT },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* 0 to run, 1 when help was printed, -1 on a usage error (reported). */
static int parse_opts(struct lg_opts *o, int argc, char **argv)
{
	const char *target = NULL;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->connections = 1;
	o->format = LG_RFC3164;
	o->hostname = "loadgen";
	o->wait = 30;
	o->interval = 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:c:r:n:d:f:qh", lg_longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			target = optarg;
			break;
		case OPT_OCTET:
			o->octet = 1;
			break;
		case 'c':
			if (parse_u64("--connections", optarg, 1, LG_MAX_CONNECTIONS, &v) < 0)
				return -1;
			o->connections = (int)v;
			break;
		case 'r':
			if (parse_secs("--rate", optarg, 0, &o->rate) < 0)
				return -1;
			break;
		case 'n':
			if (parse_u64("--count", optarg, 1, UINT64_MAX / 2, &o->count) < 0)
				return -1;
			break;
		case 'd':
			if (parse_secs("--duration", optarg, 0, &o->duration) < 0)
				return -1;
			break;
		case 'f':
			o->file = optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "rfc3164") == 0)
				o->format = LG_RFC3164;
			else if (strcmp(optarg, "rfc5424") == 0)
				o->format = LG_RFC5424;
			else if (strcmp(optarg, "json") == 0)
				o->format = LG_JSON;
			else {
				fprintf(stderr, LG_NAME ": --format: '%s' is not rfc3164, rfc5424 or json\n",
				    optarg);
				return -1;
			}
			break;
		case OPT_HOSTNAME:
			if (optarg[0] == '\0' || strlen(optarg) > 255 ||
			    strpbrk(optarg, " \t\r\n\"\\") != NULL) {
				fprintf(stderr, LG_NAME ": --hostname: '%s' is not a host name\n", optarg);
				return -1;
			}
			o->hostname = optarg;
			break;
		case OPT_SIZE:
			if (parse_u64("--size", optarg, 1, LG_STREAM_MAX, &v) < 0)
				return -1;
			o->size = (size_t)v;
			break;
		case OPT_CA:
			o->ca = optarg;
			break;
		case OPT_CERT:
			o->cert = optarg;
			break;
		case OPT_KEY:
			o->key = optarg;
			break;
		case OPT_SERVERNAME:
			o->servername = optarg;
			break;
		case OPT_INSECURE:
			o->insecure = 1;
			break;
		case OPT_WAIT:
			if (parse_secs("--wait", optarg, 1, &o->wait) < 0)
				return -1;
			break;
		case OPT_INTERVAL:
			if (parse_secs("--interval", optarg, 0, &o->interval) < 0)
				return -1;
			break;
		case OPT_PROGRESS:
			o->progress = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			fprintf(stderr, LG_NAME ": option '%s' needs a value\nTry 'vigil loadgen --help'.\n",
			    argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, LG_NAME ": unknown option '%s'\nTry 'vigil loadgen --help'.\n",
			    argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, LG_NAME ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (target == NULL) {
		fprintf(stderr, LG_NAME ": --target is required (udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT)\n");
		return -1;
	}
	if (parse_target(o, target) < 0)
		return -1;
	if (o->octet && o->proto == LG_UDP) {
		fprintf(stderr, LG_NAME ": --octet-counting applies to tcp:// and tls:// targets\n");
		return -1;
	}
	if (o->proto != LG_TLS && (o->ca || o->cert || o->key || o->servername ||
	    o->insecure)) {
		fprintf(stderr, LG_NAME ": --ca, --cert, --key, --servername and --insecure apply to tls:// targets\n");
		return -1;
	}
	if (o->key != NULL && o->cert == NULL) {
		fprintf(stderr, LG_NAME ": --key needs --cert\n");
		return -1;
	}
	if (o->proto == LG_UDP && o->size > LG_UDP_MAX) {
		fprintf(stderr, LG_NAME ": --size: a UDP datagram carries at most %d bytes\n",
		    LG_UDP_MAX);
		return -1;
	}
	if (o->file != NULL && (o->size != 0 || o->format != LG_RFC3164)) {
		fprintf(stderr, LG_NAME ": --size and --format apply to generated messages, not --file\n");
		return -1;
	}
	return 0;
}

/* ---- message sources ---------------------------------------------------- */

static char *read_all(const char *path, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 1 << 20, n = 0;
	char *p = NULL;
	struct stat st;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		cap = (size_t)st.st_size + 1;
	p = vg_malloc(cap);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			cap *= 2;
			p = vg_realloc(p, cap);
		}
		r = read(fd, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(p);
			if (fd != 0)
				close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (fd != 0)
		close(fd);
	*len = n;
	return p;
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (i > 0)
		*p++ = tmp[--i];
	return p;
}

static char *put_mem(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT(p, lit) put_mem((p), (lit), sizeof(lit) - 1)

static size_t frame_prefix(char *out, size_t len)
{
	char *p = put_u64(out, len);

	*p++ = ' ';
	return (size_t)(p - out);
}

/*
 * Read --file and frame every non-empty line for the target once (a
 * trailing CR is dropped). A short file is repeated so a round of
 * LG_MAX_BATCH messages wraps around the end at most once.
 */
static int corpus_load(struct lg *lg)
{
	const struct lg_opts *o = &lg->o;
	struct corpus *c = &lg->corpus;
	size_t len, nlines = 0, framed = 0, reps, max_line;
	char *text, *p, *end;

	text = read_all(o->file, &len);
	if (text == NULL) {
		fprintf(stderr, LG_NAME ": %s: %s\n", o->file, strerror(errno));
		return -1;
	}
	max_line = o->proto == LG_UDP ? LG_UDP_MAX : LG_STREAM_MAX;
	for (p = text, end = text + len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p);

		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l > max_line) {
			fprintf(stderr, LG_NAME ": %s: line %zu is %zu bytes, more than a %s message can be (%zu)\n",
			    o->file, nlines + 1, l, o->proto == LG_UDP ? "UDP" : "loadgen",
			    max_line);
			free(text);
			return -1;
		}
		if (l > 0) {
			nlines++;
			framed += l + (o->proto == LG_UDP ? 0 : o->octet ? 8 : 1);
		}
		p = nl ? nl + 1 : end;
	}
	if (nlines == 0) {
		fprintf(stderr, LG_NAME ": %s: no messages (no non-empty lines)\n", o->file);
		free(text);
		return -1;
	}
	reps = nlines >= LG_MAX_BATCH ? 1 : (LG_MAX_BATCH + nlines - 1) / nlines;
	c->data = vg_malloc(framed * reps + 1);
	c->off = vg_malloc((nlines * reps + 1) * sizeof(*c->off));
	c->n = 0;
	c->off[0] = 0;
	{
		char *w = c->data;

		for (p = text, end = text + len; p < end;) {
			char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t l = (size_t)((nl ? nl : end) - p);

			if (l > 0 && p[l - 1] == '\r')
				l--;
			if (l > 0) {
				if (o->proto != LG_UDP && o->octet)
					w += frame_prefix(w, l);
				w = put_mem(w, p, l);
				if (o->proto != LG_UDP && !o->octet)
					*w++ = '\n';
				c->off[++c->n] = (size_t)(w - c->data);
			}
			p = nl ? nl + 1 : end;
		}
	}
	free(text);
	/* repeat a short file */
	{
		size_t one = c->off[c->n], n1 = c->n;

		for (size_t r = 1; r < reps; r++) {
			memcpy(c->data + r * one, c->data, one);
			for (size_t i = 1; i <= n1; i++)
				c->off[r * n1 + i] = r * one + c->off[i];
		}
		c->n = n1 * reps;
	}
	lg->have_corpus = 1;
	return 0;
}

/*
 * Generated messages: one of eight kinds by sequence number, with values
 * that follow from it, so the receiver can work out what each should
 * decode to. Addresses are from the documentation ranges.
 */
struct lg_kind {
	const char *prog;
	int pri;
};

static const struct lg_kind lg_kinds[8] = {
	{ "sshd", 86 },            /* authpriv.info */
	{ "sshd", 86 },
	{ "CRON", 78 },            /* cron.info */
	{ "kernel", 4 },           /* kern.warning */
	{ "sudo", 85 },            /* authpriv.notice */
	{ "sshd", 38 },            /* auth.info */
	{ "systemd-logind", 38 },
	{ "postfix/smtpd", 22 },   /* mail.info */
};

static const char *const lg_users[4] = { "root", "admin", "oracle", "test" };

static char *gen_text(char *p, uint64_t seq)
{
	unsigned kind = (unsigned)((seq - 1) % 8);
	uint64_t a = seq % 254 + 1, port = 1024 + seq % 64000;
	const char *u;

	switch (kind) {
	case 0:
		u = lg_users[(seq / 8) % 4];
		p = PUT(p, "Failed password for ");
		p = put_mem(p, u, strlen(u));
		p = PUT(p, " from 203.0.113.");
		p = put_u64(p, a);
		p = PUT(p, " port ");
		p = put_u64(p, port);
		return PUT(p, " ssh2");
	case 1:
		p = PUT(p, "Accepted publickey for deploy from 198.51.100.");
		p = put_u64(p, a);
		p = PUT(p, " port ");
		p = put_u64(p, port);
		return PUT(p, " ssh2: ED25519 SHA256:q0Fb3mJjQvPZ2v9Lk1xN8aHcR4tYwE7sUoGiD5fKpMb");
	case 2:
		return PUT(p, "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)");
	case 3:
		p = PUT(p, "[UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=192.0.2.");
		p = put_u64(p, a);
		p = PUT(p, " DST=10.0.0.5 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=");
		p = put_u64(p, seq % 65536);
		p = PUT(p, " DF PROTO=TCP SPT=");
		p = put_u64(p, port);
		return PUT(p, " DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0");
	case 4:
		return PUT(p, "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx");
	case 5:
		p = PUT(p, "Invalid user ubnt from 203.0.113.");
		p = put_u64(p, a);
		p = PUT(p, " port ");
		return put_u64(p, port);
	case 6:
		p = PUT(p, "New session ");
		p = put_u64(p, seq);
		return PUT(p, " of user alice.");
	default:
		p = PUT(p, "connect from unknown[198.51.100.");
		p = put_u64(p, a);
		return PUT(p, "]");
	}
}

static void conn_clock(struct conn *c)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	if (now.tv_sec != c->ts_sec) {
		c->ts_sec = now.tv_sec;
		snprintf(c->ts3164, sizeof(c->ts3164), "%s %2d %02d:%02d:%02d",
		    months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	}
	snprintf(c->ts5424, sizeof(c->ts5424), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, now.tv_nsec / 1000);
}

static char *put_pad(char *p, char *start, size_t size, size_t tail)
{
	static const char pat[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t have = (size_t)(p - start) + tail;

	if (size <= have)
		return p;
	*p++ = ' ';
	for (size_t i = 1; i < size - have; i++)
		*p++ = pat[i % (sizeof(pat) - 1)];
	return p;
}

/* One generated message (no framing) into out; returns its length. */
static size_t gen_message(struct conn *c, uint64_t seq, char *out)
{
	const struct lg_kind *k = &lg_kinds[(seq - 1) % 8];
	const struct lg_opts *o = &c->lg->o;
	size_t hl = strlen(c->host), pl = strlen(k->prog);
	char *p = out;

	switch (o->format) {
	case LG_RFC3164:
		*p++ = '<';
		p = put_u64(p, (uint64_t)k->pri);
		*p++ = '>';
		p = put_mem(p, c->ts3164, strlen(c->ts3164));
		*p++ = ' ';
		p = put_mem(p, c->host, hl);
		*p++ = ' ';
		p = put_mem(p, k->prog, pl);
		*p++ = '[';
		p = put_u64(p, seq);
		p = PUT(p, "]: ");
		p = gen_text(p, seq);
		p = put_pad(p, out, o->size, 0);
		break;
	case LG_RFC5424:
		*p++ = '<';
		p = put_u64(p, (uint64_t)k->pri);
		p = PUT(p, ">1 ");
		p = put_mem(p, c->ts5424, strlen(c->ts5424));
		*p++ = ' ';
		p = put_mem(p, c->host, hl);
		*p++ = ' ';
		p = put_mem(p, k->prog, pl);
		*p++ = ' ';
		p = put_u64(p, seq);
		p = PUT(p, " - [meta sequenceId=\"");
		p = put_u64(p, (seq - 1) % 2147483647 + 1);
		p = PUT(p, "\"] ");
		p = gen_text(p, seq);
		p = put_pad(p, out, o->size, 0);
		break;
	case LG_JSON:
		p = PUT(p, "{\"@timestamp\":\"");
		p = put_mem(p, c->ts5424, strlen(c->ts5424));
		p = PUT(p, "\",\"host\":{\"hostname\":\"");
		p = put_mem(p, c->host, hl);
		p = PUT(p, "\"},\"process\":{\"name\":\"");
		p = put_mem(p, k->prog, pl);
		p = PUT(p, "\",\"pid\":");
		p = put_u64(p, seq);
		p = PUT(p, "},\"log\":{\"syslog\":{\"priority\":");
		p = put_u64(p, (uint64_t)k->pri);
		p = PUT(p, "}},\"message\":\"");
		p = gen_text(p, seq);
		p = put_pad(p, out, o->size, 2);
		p = PUT(p, "\"}");
		break;
	}
	return (size_t)(p - out);
}

/* ---- token bucket ------------------------------------------------------- */

static void bucket_init(struct bucket *b, double rate)
{
	pthread_mutex_init(&b->mu, NULL);
	b->rate = rate;
	/* 20 ms worth: smooth enough, few lock round trips at high rates */
	b->burst = rate / 50 < 1 ? 1 : rate / 50 > LG_MAX_BATCH ? LG_MAX_BATCH : rate / 50;
	b->tokens = 1;
	b->last_ns = mono_ns();
}

/* Up to want tokens, sleeping until at least one is there; 0 on stop. */
static uint64_t bucket_take(struct bucket *b, uint64_t want)
{
	for (;;) {
		int64_t now, wait_ns;
		uint64_t got;

		if (atomic_load(&lg_stop) != 0)
			return 0;
		pthread_mutex_lock(&b->mu);
		now = mono_ns();
		b->tokens += (double)(now - b->last_ns) * b->rate / 1e9;
		b->last_ns = now;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		got = b->tokens >= 1 ? (uint64_t)b->tokens : 0;
		if (got > want)
			got = want;
		b->tokens -= (double)got;
		wait_ns = (int64_t)((1.0 - b->tokens) / b->rate * 1e9);
		pthread_mutex_unlock(&b->mu);
		if (got > 0)
			return got;
		sleep_ns(wait_ns < 100000000 ? wait_ns : 100000000);
	}
}

/* Take up to want sequence numbers; the first goes to *first. 0 when
 * --count is used up. */
static uint64_t claim(struct lg *lg, uint64_t want, uint64_t *first)
{
	uint64_t cur = atomic_load(&lg->next), k;

	do {
		k = want;
		if (lg->o.count != 0) {
			if (cur >= lg->o.count)
				return 0;
			if (lg->o.count - cur < k)
				k = lg->o.count - cur;
		}
	} while (!atomic_compare_exchange_weak(&lg->next, &cur, cur + k));
	*first = cur + 1;
	return k;
}

/* ---- connections -------------------------------------------------------- */

static void conn_fail(struct conn *c, const char *fmt, ...) VG_PRINTF(2, 3);

static void conn_fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->failed)
		return;
	c->failed = 1;
	n = snprintf(c->err, sizeof(c->err), "%s: connection %d: ", c->lg->o.target, c->id);
	va_start(ap, fmt);
	vsnprintf(c->err + n, sizeof(c->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* The first queued OpenSSL error as text, or fallback. */
static const char *tls_error(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_get_error();

	if (e == 0) {
		snprintf(buf, len, "%s", fallback);
		return buf;
	}
	ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/* Wait until fd is ready for ev; -1 on a hard stop or past deadline_ns
 * (0: none). */
static int wait_io(int fd, short ev, int64_t deadline_ns)
{
	struct pollfd pfd = { .fd = fd, .events = ev };

	for (;;) {
		int ms = LG_POLL_MS, r;

		if (atomic_load(&lg_stop) == 2)
			return -1;
		if (deadline_ns != 0) {
			int64_t left = deadline_ns - mono_ns();

			if (left <= 0)
				return -1;
			if (left / 1000000 < ms)
				ms = (int)(left / 1000000) + 1;
		}
		r = poll(&pfd, 1, ms);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * Write niov buffers fully. Returns 0, or -1 on an error (reported on the
 * connection) or a hard stop; *written says how far it got.
 */
static int stream_write(struct conn *c, struct iovec *iov, int niov, size_t *written)
{
	*written = 0;
	while (niov > 0) {
		ssize_t n;

		if (iov->iov_len == 0) {
			iov++;
			niov--;
			continue;
		}
		if (c->ssl != NULL) {
			int len = iov->iov_len > (1u << 30) ? 1 << 30 : (int)iov->iov_len;
			int r = SSL_write(c->ssl, iov->iov_base, len);

			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);
				char eb[256];

				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
					if (wait_io(c->fd, e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, 0) < 0)
						goto stopped;
					continue;
				}
				if (e == SSL_ERROR_SYSCALL && errno != 0)
					conn_fail(c, "TLS write: %s", strerror(errno));
				else
					conn_fail(c, "TLS write: %s",
					    tls_error(eb, sizeof(eb), "connection closed by the receiver"));
				return -1;
			}
			n = r;
		} else {
			struct msghdr mh;

			memset(&mh, 0, sizeof(mh));
			mh.msg_iov = iov;
			mh.msg_iovlen = (size_t)(niov > 64 ? 64 : niov);
			n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					if (wait_io(c->fd, POLLOUT, 0) < 0)
						goto stopped;
					continue;
				}
				conn_fail(c, "send: %s", strerror(errno));
				return -1;
			}
		}
		*written += (size_t)n;
		while (n > 0) {
			if ((size_t)n >= iov->iov_len) {
				n -= (ssize_t)iov->iov_len;
				iov++;
				niov--;
			} else {
				iov->iov_base = (char *)iov->iov_base + n;
				iov->iov_len -= (size_t)n;
				n = 0;
			}
		}
	}
	return 0;
stopped:
	c->interrupted = 1;
	return -1;
}

static void conn_count(struct conn *c, uint64_t msgs, uint64_t bytes)
{
	atomic_store_explicit(&c->msgs, atomic_load_explicit(&c->msgs,
	    memory_order_relaxed) + msgs, memory_order_relaxed);
	atomic_store_explicit(&c->bytes, atomic_load_explicit(&c->bytes,
	    memory_order_relaxed) + bytes, memory_order_relaxed);
}

/* Stream: k messages from first. Only whole messages count. */
static int stream_round(struct conn *c, uint64_t first, uint64_t k)
{
	struct lg *lg = c->lg;
	struct iovec iov[2];
	size_t written, total;
	int niov, rc;

	if (lg->have_corpus) {
		const struct corpus *cp = &lg->corpus;
		size_t i = (size_t)((first - 1) % cp->n);
		size_t j = i + (size_t)k;

		if (j <= cp->n) {
			iov[0].iov_base = cp->data + cp->off[i];
			iov[0].iov_len = cp->off[j] - cp->off[i];
			niov = 1;
		} else {
			iov[0].iov_base = cp->data + cp->off[i];
			iov[0].iov_len = cp->off[cp->n] - cp->off[i];
			iov[1].iov_base = cp->data;
			iov[1].iov_len = cp->off[j - cp->n];
			niov = 2;
		}
		total = iov[0].iov_len + (niov > 1 ? iov[1].iov_len : 0);
		rc = stream_write(c, iov, niov, &written);
		if (rc == 0) {
			conn_count(c, k, total);
		} else {
			uint64_t m = 0;
			size_t b = 0;

			for (uint64_t x = 0; x < k; x++) {
				size_t a = (size_t)((i + x) % cp->n);
				size_t l = cp->off[a + 1] - cp->off[a];

				if (b + l > written)
					break;
				b += l;
				m++;
			}
			conn_count(c, m, b);
		}
		return rc;
	}

	{
		char *p = c->buf;

		conn_clock(c);
		for (uint64_t x = 0; x < k; x++) {
			size_t l = gen_message(c, first + x, c->scratch);

			if (lg->o.octet)
				p += frame_prefix(p, l);
			p = put_mem(p, c->scratch, l);
			if (!lg->o.octet)
				*p++ = '\n';
			c->ends[x] = (size_t)(p - c->buf);
		}
		total = (size_t)(p - c->buf);
	}
	iov[0].iov_base = c->buf;
	iov[0].iov_len = total;
	rc = stream_write(c, iov, 1, &written);
	if (rc == 0) {
		conn_count(c, k, total);
	} else {
		uint64_t m = 0;

		while (m < k && c->ends[m] <= written)
			m++;
		conn_count(c, m, m ? c->ends[m - 1] : 0);
	}
	return rc;
}

/* UDP: k datagrams from first with sendmmsg. */
static int udp_round(struct conn *c, uint64_t first, uint64_t k)
{
	struct lg *lg = c->lg;
	unsigned sent = 0;
	uint64_t bytes = 0;

	if (lg->have_corpus) {
		const struct corpus *cp = &lg->corpus;
		size_t i = (size_t)((first - 1) % cp->n);

		for (uint64_t x = 0; x < k; x++) {
			size_t a = (i + x) % cp->n;

			c->iov[x].iov_base = cp->data + cp->off[a];
			c->iov[x].iov_len = cp->off[a + 1] - cp->off[a];
		}
	} else {
		char *p = c->buf;

		conn_clock(c);
		for (uint64_t x = 0; x < k; x++) {
			size_t l = gen_message(c, first + x, p);

			c->iov[x].iov_base = p;
			c->iov[x].iov_len = l;
			p += l;
		}
	}
	for (uint64_t x = 0; x < k; x++) {
		memset(&c->mm[x], 0, sizeof(c->mm[x]));
		c->mm[x].msg_hdr.msg_iov = &c->iov[x];
		c->mm[x].msg_hdr.msg_iovlen = 1;
	}
	while (sent < k) {
		int r = sendmmsg(c->fd, c->mm + sent, (unsigned)(k - sent), MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNREFUSED) {
				/* an ICMP report about an earlier datagram; this one was not sent */
				c->refused++;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
				if (errno == ENOBUFS)
					sleep_ns(1000000);
				else if (wait_io(c->fd, POLLOUT, 0) < 0) {
					c->interrupted = 1;
					break;
				}
				continue;
			}
			conn_fail(c, "send: %s", strerror(errno));
			break;
		}
		for (int x = 0; x < r; x++)
			bytes += c->iov[sent + (unsigned)x].iov_len;
		sent += (unsigned)r;
	}
	conn_count(c, sent, bytes);
	return sent == k ? 0 : -1;
}

/*
 * End of a stream: close_notify for TLS, half-close, then read until the
 * receiver closes, up to --wait seconds. A reset or TLS alert here means
 * the receiver may not have taken everything: it fails the connection.
 */
static void stream_finish(struct conn *c)
{
	const struct lg_opts *o = &c->lg->o;
	int64_t deadline = mono_ns() + (int64_t)(o->wait * 1e9);
	char junk[16384], eb[256];

	if (c->ssl != NULL) {
		for (;;) {
			int r = SSL_shutdown(c->ssl), e;

			if (r >= 0)
				break;
			e = SSL_get_error(c->ssl, r);
			if ((e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) &&
			    wait_io(c->fd, e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, deadline) == 0)
				continue;
			ERR_clear_error();
			break;
		}
	}
	shutdown(c->fd, SHUT_WR);
	if (o->wait <= 0)
		return;
	for (;;) {
		if (wait_io(c->fd, POLLIN, deadline) < 0) {
			if (atomic_load(&lg_stop) != 2)
				c->unconfirmed = 1;
			return;
		}
		if (c->ssl != NULL) {
			int r = SSL_read(c->ssl, junk, sizeof(junk)), e;

			if (r > 0)
				continue;
			e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				continue;
			if (e == SSL_ERROR_ZERO_RETURN)
				return;
			if (e == SSL_ERROR_SYSCALL && errno == 0)
				return;
			if (e == SSL_ERROR_SYSCALL)
				conn_fail(c, "receiver: %s", strerror(errno));
			else
				conn_fail(c, "receiver: %s", tls_error(eb, sizeof(eb), "TLS error"));
			return;
		} else {
			ssize_t r = recv(c->fd, junk, sizeof(junk), 0);

			if (r > 0)
				continue;
			if (r == 0)
				return;
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			conn_fail(c, "receiver: %s", strerror(errno));
			return;
		}
	}
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct lg *lg = c->lg;
	int stream = lg->o.proto != LG_UDP;

	while (atomic_load(&lg_stop) == 0) {
		uint64_t want = c->batch, first, k;

		if (lg->o.count != 0) {
			if (c->left == 0)
				break;
			if (want > c->left)
				want = c->left;
		}
		if (lg->o.rate > 0) {
			want = bucket_take(&lg->bucket, want);
			if (want == 0)
				break;
		}
		k = claim(lg, want, &first);
		if (k == 0)
			break;
		c->left -= k < c->left ? k : c->left;
		if ((stream ? stream_round(c, first, k) : udp_round(c, first, k)) < 0) {
			/* the others finish what they are writing, then stop */
			if (atomic_load(&lg_stop) == 0)
				atomic_store(&lg_stop, 1);
			break;
		}
	}
	if (stream && !c->failed && atomic_load(&lg_stop) != 2)
		stream_finish(c);
	pthread_mutex_lock(&lg->mu);
	lg->ndone++;
	pthread_cond_signal(&lg->cv);
	pthread_mutex_unlock(&lg->mu);
	return NULL;
}

static int resolve(struct lg *lg)
{
	struct addrinfo hints, *res = NULL;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = lg->o.proto == LG_UDP ? SOCK_DGRAM : SOCK_STREAM;
	r = getaddrinfo(lg->o.host, lg->o.port, &hints, &res);
	if (r != 0) {
		fprintf(stderr, LG_NAME ": %s: cannot resolve '%s': %s\n", lg->o.target,
		    lg->o.host, r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -1;
	}
	memcpy(&lg->addr, res->ai_addr, res->ai_addrlen);
	lg->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int tls_setup(struct lg *lg)
{
	const struct lg_opts *o = &lg->o;
	char eb[256];

	lg->ctx = SSL_CTX_new(TLS_client_method());
	if (lg->ctx == NULL) {
		fprintf(stderr, LG_NAME ": TLS: %s\n", tls_error(eb, sizeof(eb), "cannot create a context"));
		return -1;
	}
	SSL_CTX_set_min_proto_version(lg->ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(lg->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* a receiver that closes without close_notify still read everything */
	SSL_CTX_set_options(lg->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	if (o->insecure) {
		SSL_CTX_set_verify(lg->ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(lg->ctx, SSL_VERIFY_PEER, NULL);
		if (o->ca != NULL) {
			if (SSL_CTX_load_verify_locations(lg->ctx, o->ca, NULL) != 1) {
				fprintf(stderr, LG_NAME ": --ca %s: %s\n", o->ca,
				    tls_error(eb, sizeof(eb), "cannot load"));
				return -1;
			}
		} else if (SSL_CTX_set_default_verify_paths(lg->ctx) != 1) {
			fprintf(stderr, LG_NAME ": TLS: %s\n",
			    tls_error(eb, sizeof(eb), "cannot load the system CAs"));
			return -1;
		}
	}
	if (o->cert != NULL) {
		const char *key = o->key ? o->key : o->cert;

		if (SSL_CTX_use_certificate_chain_file(lg->ctx, o->cert) != 1) {
			fprintf(stderr, LG_NAME ": --cert %s: %s\n", o->cert,
			    tls_error(eb, sizeof(eb), "cannot load"));
			return -1;
		}
		if (SSL_CTX_use_PrivateKey_file(lg->ctx, key, SSL_FILETYPE_PEM) != 1) {
			fprintf(stderr, LG_NAME ": --key %s: %s\n", key,
			    tls_error(eb, sizeof(eb), "cannot load"));
			return -1;
		}
		if (SSL_CTX_check_private_key(lg->ctx) != 1) {
			fprintf(stderr, LG_NAME ": --key %s does not match --cert %s\n", key, o->cert);
			return -1;
		}
	}
	return 0;
}

static int is_ip_literal(const char *h)
{
	struct in6_addr a6;

	return inet_pton(AF_INET, h, &a6) == 1 || inet_pton(AF_INET6, h, &a6) == 1;
}

static int tls_handshake(struct conn *c)
{
	struct lg *lg = c->lg;
	const struct lg_opts *o = &lg->o;
	const char *name = o->servername ? o->servername : o->host;
	int64_t deadline = mono_ns() + (int64_t)LG_CONNECT_TIMEOUT_MS * 1000000;
	char eb[256];

	c->ssl = SSL_new(lg->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		fprintf(stderr, LG_NAME ": %s: TLS: %s\n", o->target,
		    tls_error(eb, sizeof(eb), "cannot set up"));
		return -1;
	}
	if (!is_ip_literal(name))
		SSL_set_tlsext_host_name(c->ssl, name);
	if (!o->insecure) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);

		if (is_ip_literal(name))
			X509_VERIFY_PARAM_set1_ip_asc(vp, name);
		else
			SSL_set1_host(c->ssl, name);
	}
	for (;;) {
		int r = SSL_connect(c->ssl), e;

		if (r == 1)
			return 0;
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (wait_io(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) == 0)
				continue;
			fprintf(stderr, LG_NAME ": %s: TLS handshake: %s\n", o->target,
			    atomic_load(&lg_stop) ? "interrupted" : "timed out (is it a TLS server?)");
			return -1;
		}
		if (SSL_get_verify_result(c->ssl) != X509_V_OK) {
			fprintf(stderr, LG_NAME ": %s: TLS handshake: server certificate not accepted: %s\n",
			    o->target, X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
			ERR_clear_error();
		} else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
			fprintf(stderr, LG_NAME ": %s: TLS handshake: %s\n", o->target,
			    errno ? strerror(errno) : "connection closed by the receiver");
		} else {
			fprintf(stderr, LG_NAME ": %s: TLS handshake: %s\n", o->target,
			    tls_error(eb, sizeof(eb), "failed"));
		}
		return -1;
	}
}

/* Open connection c (socket, connect with a timeout, TLS handshake). */
static int conn_open(struct conn *c)
{
	struct lg *lg = c->lg;
	int type = lg->o.proto == LG_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int err = 0;
	socklen_t el = sizeof(err);

	c->fd = socket(lg->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fprintf(stderr, LG_NAME ": %s: socket: %s\n", lg->o.target, strerror(errno));
		return -1;
	}
	if (lg->o.proto == LG_UDP) {
		int sz = 4 << 20;

		setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	if (connect(c->fd, (struct sockaddr *)&lg->addr, lg->addrlen) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
		} else if (wait_io(c->fd, POLLOUT, mono_ns() + (int64_t)LG_CONNECT_TIMEOUT_MS * 1000000) < 0) {
			err = ETIMEDOUT;
		} else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0) {
			err = errno;
		}
	}
	if (err != 0) {
		fprintf(stderr, LG_NAME ": %s: connect: %s\n", lg->o.target,
		    atomic_load(&lg_stop) && err == ETIMEDOUT ? "interrupted" : strerror(err));
		return -1;
	}
	if (lg->o.proto == LG_TLS && tls_handshake(c) < 0)
		return -1;
	return 0;
}

static void conn_setup(struct lg *lg, struct conn *c, int id)
{
	const struct lg_opts *o = &lg->o;
	size_t per;

	c->lg = lg;
	c->id = id;
	c->fd = -1;
	/* --count is shared out evenly: each connection carries its part */
	if (o->count != 0)
		c->left = o->count / (uint64_t)o->connections +
		    ((uint64_t)(id - 1) < o->count % (uint64_t)o->connections);
	if (o->connections > 1)
		snprintf(c->host, sizeof(c->host), "%s-%d", o->hostname, id);
	else
		snprintf(c->host, sizeof(c->host), "%s", o->hostname);
	per = lg->maxmsg + 16;
	if (o->proto == LG_UDP) {
		c->batch = LG_UDP_BATCH;
		c->iov = vg_calloc(c->batch, sizeof(*c->iov));
		c->mm = vg_calloc(c->batch, sizeof(*c->mm));
		if (!lg->have_corpus) {
			c->cap = c->batch * per;
			c->buf = vg_malloc(c->cap);
		}
	} else if (lg->have_corpus) {
		size_t avg = lg->corpus.off[lg->corpus.n] / lg->corpus.n + 1;

		c->batch = LG_STREAM_BATCH_BYTES / avg;
	} else {
		c->batch = LG_STREAM_BATCH_BYTES / per;
	}
	if (o->proto != LG_UDP) {
		if (c->batch < 1)
			c->batch = 1;
		if (c->batch > LG_MAX_BATCH)
			c->batch = LG_MAX_BATCH;
		if (!lg->have_corpus) {
			c->cap = c->batch * per;
			c->buf = vg_malloc(c->cap);
			c->ends = vg_calloc(c->batch, sizeof(*c->ends));
			c->scratch = vg_malloc(per);
		}
	}
}

static void conn_close(struct conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c->ends);
	free(c->scratch);
	free(c->iov);
	free(c->mm);
}

/* ---- reporting ---------------------------------------------------------- */

static void totals(const struct lg *lg, uint64_t *msgs, uint64_t *bytes)
{
	*msgs = *bytes = 0;
	for (int i = 0; i < lg->o.connections; i++) {
		*msgs += atomic_load_explicit(&lg->conns[i].msgs, memory_order_relaxed);
		*bytes += atomic_load_explicit(&lg->conns[i].bytes, memory_order_relaxed);
	}
}

static const char *proto_name(enum lg_proto p)
{
	return p == LG_UDP ? "udp" : p == LG_TCP ? "tcp" : "tls";
}

/* Print the summary; returns the number of ICMP unreachable reports. */
static uint64_t summary(struct lg *lg, double secs, int ok)
{
	const struct lg_opts *o = &lg->o;
	uint64_t msgs, bytes, refused = 0;
	int unconfirmed = 0;
	double mps, mbs;

	totals(lg, &msgs, &bytes);
	for (int i = 0; i < o->connections; i++) {
		refused += lg->conns[i].refused;
		unconfirmed += lg->conns[i].unconfirmed;
	}
	mps = secs > 0 ? (double)msgs / secs : 0;
	mbs = secs > 0 ? (double)bytes / 1e6 / secs : 0;
	fprintf(stderr, LG_NAME ": sent %llu messages, %llu bytes in %.3f s: %.0f msgs/s, %.2f MB/s (%s, %d %s%s)\n",
	    (unsigned long long)msgs, (unsigned long long)bytes, secs, mps, mbs,
	    o->target, o->connections,
	    o->proto == LG_UDP ? (o->connections > 1 ? "sockets" : "socket") :
	    (o->connections > 1 ? "connections" : "connection"),
	    o->proto == LG_UDP ? "" : o->octet ? ", octet-counted" : ", LF-framed");
	if (refused > 0)
		fprintf(stderr, LG_NAME ": %s: %llu ICMP port-unreachable reports: messages were lost; is anything listening?\n",
		    o->target, (unsigned long long)refused);
	if (unconfirmed > 0)
		fprintf(stderr, LG_NAME ": warning: %d connection%s not closed by the receiver within %g s (--wait): delivery not confirmed\n",
		    unconfirmed, unconfirmed > 1 ? "s" : "", o->wait);
	if (o->json)
		printf("{\"target\":\"%s\",\"protocol\":\"%s\",\"framing\":\"%s\",\"connections\":%d,"
		    "\"messages\":%llu,\"bytes\":%llu,\"seconds\":%.6f,\"msgs_per_s\":%.1f,"
		    "\"mb_per_s\":%.3f,\"icmp_unreachable\":%llu,\"unconfirmed\":%d,\"ok\":%s}\n",
		    o->target, proto_name(o->proto),
		    o->proto == LG_UDP ? "datagram" : o->octet ? "octet-counted" : "lf",
		    o->connections, (unsigned long long)msgs, (unsigned long long)bytes, secs,
		    mps, mbs, (unsigned long long)refused, unconfirmed,
		    ok && refused == 0 ? "true" : "false");
	fflush(stdout);
	return refused;
}

static void progress(struct lg *lg, double secs, uint64_t *last_msgs,
    uint64_t *last_bytes, double *last_secs)
{
	uint64_t msgs, bytes;
	double dt = secs - *last_secs;

	totals(lg, &msgs, &bytes);
	if (dt <= 0)
		return;
	fprintf(stderr, LG_NAME ": %7.1f s: %9.0f msgs/s, %7.2f MB/s, %llu messages sent\n",
	    secs, (double)(msgs - *last_msgs) / dt, (double)(bytes - *last_bytes) / 1e6 / dt,
	    (unsigned long long)msgs);
	*last_msgs = msgs;
	*last_bytes = bytes;
	*last_secs = secs;
}

/* ---- main --------------------------------------------------------------- */

int loadgen_main(int argc, char **argv)
{
	struct lg *lg = vg_calloc(1, sizeof(*lg));
	struct sigaction sa, old_int, old_term, old_pipe;
	int64_t t0, t1;
	int rc = 1, opened = 0, started = 0, show;
	uint64_t last_msgs = 0, last_bytes = 0;
	double last_secs = 0, next_report;
	pthread_condattr_t ca;

	atomic_store(&lg_stop, 0);
	switch (parse_opts(&lg->o, argc, argv)) {
	case 1:
		free(lg);
		return 0;
	case -1:
		free(lg);
		return 2;
	}
	pthread_mutex_init(&lg->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&lg->cv, &ca);
	pthread_condattr_destroy(&ca);
	show = !lg->o.quiet && (lg->o.progress || isatty(2));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = lg_signal_cb;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old_pipe);

	if (lg->o.file != NULL && corpus_load(lg) < 0)
		goto done;
	lg->maxmsg = lg->o.size > 1024 ? lg->o.size : 1024;
	if (resolve(lg) < 0)
		goto done;
	if (lg->o.proto == LG_TLS && tls_setup(lg) < 0)
		goto done;
	if (lg->o.rate > 0)
		bucket_init(&lg->bucket, lg->o.rate);
	lg->conns = vg_calloc((size_t)lg->o.connections, sizeof(*lg->conns));
	for (int i = 0; i < lg->o.connections; i++) {
		conn_setup(lg, &lg->conns[i], i + 1);
		opened = i + 1;
		if (conn_open(&lg->conns[i]) < 0)
			goto done;
	}

	t0 = mono_ns();
	if (lg->o.rate > 0)
		lg->bucket.last_ns = t0;
	for (int i = 0; i < lg->o.connections; i++) {
		if (pthread_create(&lg->conns[i].th, NULL, conn_main, &lg->conns[i]) != 0) {
			fprintf(stderr, LG_NAME ": cannot start a thread: %s\n", strerror(errno));
			atomic_store(&lg_stop, 2);
			break;
		}
		lg->conns[i].started = 1;
		started++;
	}
	next_report = lg->o.interval;
	pthread_mutex_lock(&lg->mu);
	while (lg->ndone < started) {
		double secs = (double)(mono_ns() - t0) / 1e9;
		double wake = secs + 0.1;
		int64_t at;
		struct timespec ts;

		if (lg->o.duration > 0 && secs >= lg->o.duration && atomic_load(&lg_stop) == 0)
			atomic_store(&lg_stop, 1);
		if (show && secs >= next_report) {
			progress(lg, secs, &last_msgs, &last_bytes, &last_secs);
			next_report += lg->o.interval;
		}
		if (show && next_report < wake)
			wake = next_report;
		if (lg->o.duration > secs && lg->o.duration < wake)
			wake = lg->o.duration;
		at = t0 + (int64_t)(wake * 1e9);
		ts.tv_sec = (time_t)(at / 1000000000);
		ts.tv_nsec = (long)(at % 1000000000);
		pthread_cond_timedwait(&lg->cv, &lg->mu, &ts);
	}
	pthread_mutex_unlock(&lg->mu);
	for (int i = 0; i < started; i++)
		pthread_join(lg->conns[i].th, NULL);
	t1 = mono_ns();

	rc = started == lg->o.connections ? 0 : 1;
	for (int i = 0; i < lg->o.connections; i++) {
		struct conn *c = &lg->conns[i];

		if (c->failed) {
			fprintf(stderr, LG_NAME ": %s\n", c->err);
			rc = 1;
		}
		if (c->interrupted && c->ssl == NULL && lg->o.proto != LG_UDP)
			fprintf(stderr, LG_NAME ": connection %d stopped in the middle of a message\n", c->id);
	}
	if (summary(lg, (double)(t1 - t0) / 1e9, rc == 0) > 0)
		rc = 1;
done:
	for (int i = 0; i < opened; i++)
		conn_close(&lg->conns[i]);
	free(lg->conns);
	if (lg->ctx != NULL)
		SSL_CTX_free(lg->ctx);
	if (lg->o.rate > 0)
		pthread_mutex_destroy(&lg->bucket.mu);
	free(lg->corpus.data);
	free(lg->corpus.off);
	pthread_cond_destroy(&lg->cv);
	pthread_mutex_destroy(&lg->mu);
	free(lg);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	return rc;
}
