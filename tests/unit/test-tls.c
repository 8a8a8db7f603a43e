// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/net/tls: QEMU's credentials loaded and checked, handshakes over a
 * socketpair (the server in a thread) that succeed with the right
 * credentials and fail in the listener's words with the wrong ones, and
 * data: both ways at once, close_notify as the end, a cut as an error.
 * The credentials come from tests/net/make-certs in a scratch directory.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "common/c.h"
#include "common/timeutil.h"
#include "net/tls.h"
#include "unit.h"

static char certs[] = "/tmp/vmt-test-tls.XXXXXX";

/* ---- credentials ---- */

static const char *in_certs(const char *name)
{
	static char paths[4][512];
	static int next;
	char *p = paths[next++ % 4];

	snprintf(p, sizeof(paths[0]), "%s/%s", certs, name);
	return p;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static struct vmt_tls_creds *psk(const char *name, enum vmt_tls_role role)
{
	struct vmt_tls_creds *c = NULL;
	char err[256] = "";

	CHECK_EQ(vmt_tls_creds_load_psk(&c, in_certs(name), role, err, sizeof(err)), 0);
	if (!c)
		printf("#   %s\n", err);
	return c;
}

static struct vmt_tls_creds *x509(const char *dir, enum vmt_tls_role role)
{
	struct vmt_tls_creds *c = NULL;
	char err[256] = "";

	CHECK_EQ(vmt_tls_creds_load_x509(&c, in_certs(dir), role, err, sizeof(err)), 0);
	if (!c)
		printf("#   %s\n", err);
	return c;
}

/* ---- handshakes over a socketpair ---- */

struct side {
	const struct vmt_tls_creds *creds;
	int fd;
	const char *peer_name;
	int timeout_ms;
	int rc;
	char err[256];
	struct vmt_tls_session *s;
};

static void *start_side(void *arg)
{
	struct side *d = arg;

	d->rc = vmt_tls_session_start(&d->s, d->creds, d->fd, d->peer_name, d->timeout_ms, d->err,
				      sizeof(d->err));
	return NULL;
}

struct pair {
	struct side client, server;
};

/* Both handshakes at once, the server's in a thread. */
static void handshake(struct pair *p, const struct vmt_tls_creds *client,
		      const struct vmt_tls_creds *server, const char *peer_name)
{
	int sv[2];
	pthread_t t;

	memset(p, 0, sizeof(*p));
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	p->client = (struct side){
		.creds = client, .fd = sv[0], .peer_name = peer_name, .timeout_ms = 5000
	};
	p->server = (struct side){ .creds = server, .fd = sv[1], .timeout_ms = 5000 };
	pthread_create(&t, NULL, start_side, &p->server);
	start_side(&p->client);
	if (p->client.rc < 0)
		/* as a tool would: the server sees the connection go */
		shutdown(p->client.fd, SHUT_RDWR);
	pthread_join(t, NULL);
	if (p->client.rc)
		printf("#   client: %d %s\n", p->client.rc, p->client.err);
	if (p->server.rc)
		printf("#   server: %d %s\n", p->server.rc, p->server.err);
}

static void pair_free(struct pair *p)
{
	vmt_tls_session_free(p->client.s);
	vmt_tls_session_free(p->server.s);
	close(p->client.fd);
	close(p->server.fd);
}

/* A few bytes one way and back: the session really carries data. */
static void check_exchange(struct pair *p)
{
	char buf[16] = "";

	if (!p->client.s || !p->server.s)
		return;
	CHECK_EQ(vmt_tls_send(p->client.s, "ping", 4), 4);
	CHECK_EQ(vmt_tls_recv(p->server.s, buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	CHECK_EQ(vmt_tls_send(p->server.s, "pong", 4), 4);
	CHECK_EQ(vmt_tls_recv(p->client.s, buf, sizeof(buf)), 4);
	CHECK(memcmp(buf, "pong", 4) == 0);
}

static void test_psk_ok(void)
{
	struct vmt_tls_creds *c = psk("keys.psk", VMT_TLS_CLIENT);
	struct vmt_tls_creds *s = psk("keys.psk", VMT_TLS_SERVER);
	struct pair p;

	handshake(&p, c, s, "127.0.0.1");
	CHECK_EQ(p.client.rc, 0);
	CHECK_EQ(p.server.rc, 0);
	if (p.server.s)
		CHECK_STR_CONTAINS(vmt_tls_peer_identity(p.server.s), "vfio-migtools");
	check_exchange(&p);
	pair_free(&p);
	vmt_tls_creds_free(c);
	vmt_tls_creds_free(s);
}

/* A server accepts any identity in its file, not only the first. */
static void test_psk_second_identity(void)
{
	struct vmt_tls_creds *c, *s;
	char text[256];
	struct pair p;

	snprintf(text, sizeof(text), "other:00112233445566778899aabbccddeeff\r\n\n%s",
		 "vfio-migtools:ffeeddccbbaa99887766554433221100\n");
	write_file(in_certs("two.psk"), text);
	write_file(in_certs("second.psk"), "vfio-migtools:ffeeddccbbaa99887766554433221100\n");
	c = psk("second.psk", VMT_TLS_CLIENT);
	s = psk("two.psk", VMT_TLS_SERVER);
	handshake(&p, c, s, NULL);
	CHECK_EQ(p.client.rc, 0);
	CHECK_EQ(p.server.rc, 0);
	check_exchange(&p);
	pair_free(&p);
	vmt_tls_creds_free(c);
	vmt_tls_creds_free(s);
}

static void test_psk_wrong_key(void)
{
	struct vmt_tls_creds *c = psk("wrong.psk", VMT_TLS_CLIENT);
	struct vmt_tls_creds *s = psk("keys.psk", VMT_TLS_SERVER);
	struct pair p;

	handshake(&p, c, s, NULL);
	CHECK_EQ(p.server.rc, -EACCES);
	CHECK_STR_CONTAINS(p.server.err, "wrong PSK");
	CHECK(p.client.rc < 0);
	CHECK_STR_CONTAINS(p.client.err, "wrong PSK");
	pair_free(&p);
	vmt_tls_creds_free(c);
	vmt_tls_creds_free(s);
}

static void test_psk_unknown_identity(void)
{
	struct vmt_tls_creds *c, *s;
	struct pair p;

	write_file(in_certs("stranger.psk"), "stranger:00112233445566778899aabbccddeeff\n");
	c = psk("stranger.psk", VMT_TLS_CLIENT);
	s = psk("keys.psk", VMT_TLS_SERVER);
	handshake(&p, c, s, NULL);
	CHECK_EQ(p.server.rc, -EACCES);
	CHECK_STR_CONTAINS(p.server.err, "unknown PSK identity 'stranger'");
	CHECK_EQ(p.client.rc, -EACCES);
	CHECK_STR_CONTAINS(p.client.err, "peer does not know our PSK identity 'stranger'");
	pair_free(&p);
	vmt_tls_creds_free(c);
	vmt_tls_creds_free(s);
}

/* Each malformed line is refused with its file and line number. */
static void test_psk_file_errors(void)
{
	static const struct {
		const char *text, *words;
	} cases[] = {
		{ "id:0011\nnocolon\n", "bad.psk:2: not IDENTITY:HEXKEY" },
		{ ":0011\n", "bad.psk:1: empty identity" },
		{ "id:001\n", "bad.psk:1: odd number of hex digits" },
		{ "id:00zz\n", "bad.psk:1: the key is not hexadecimal" },
		{ "id:\n", "bad.psk:1: empty key" },
		{ "id:0011\n\nid:2233\n", "bad.psk:3: identity given twice" },
		{ "\n\n", "bad.psk: no IDENTITY:HEXKEY line" },
	};
	struct vmt_tls_creds *c = NULL;
	char err[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		write_file(in_certs("bad.psk"), cases[i].text);
		err[0] = '\0';
		CHECK_EQ(vmt_tls_creds_load_psk(&c, in_certs("bad.psk"), VMT_TLS_SERVER, err,
						sizeof(err)),
			 -EINVAL);
		CHECK(c == NULL);
		CHECK_STR_CONTAINS(err, cases[i].words);
	}
	CHECK_EQ(vmt_tls_creds_load_psk(&c, in_certs("none.psk"), VMT_TLS_CLIENT, err, sizeof(err)),
		 -ENOENT);
	CHECK_STR_CONTAINS(err, "none.psk: No such file");
}

static void test_x509_ok(void)
{
	static const char *const names[] = { "127.0.0.1", "localhost", "::1", NULL };
	struct vmt_tls_creds *c = x509("client", VMT_TLS_CLIENT);
	struct vmt_tls_creds *s = x509("server", VMT_TLS_SERVER);
	struct pair p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		handshake(&p, c, s, names[i]);
		CHECK_EQ(p.client.rc, 0);
		CHECK_EQ(p.server.rc, 0);
		if (p.client.s && p.server.s) {
			CHECK_STR_CONTAINS(vmt_tls_peer_identity(p.server.s),
					   "vfio-migtools test client");
			CHECK_STR_CONTAINS(vmt_tls_peer_identity(p.client.s), "localhost");
		}
		check_exchange(&p);
		pair_free(&p);
	}
	vmt_tls_creds_free(c);
	vmt_tls_creds_free(s);
}

/* The client refuses a server whose certificate another CA signed. */
static void test_x509_client_refuses_wrong_ca(void)
{
	struct vmt_tls_creds *c = x509("client", VMT_TLS_CLIENT);
	struct vmt_tls_creds *s = x509("wrong-ca/server", VMT_TLS_SERVER);
	struct pair p;

	handshake(&p, c, s, "127.0.0.1");
	CHECK_EQ(p.client.rc, -EACCES);
	CHECK_STR_CONTAINS(p.client.err, "peer's certificate is not signed by our CA");
	CHECK_EQ(p.server.rc, -EACCES);
	CHECK_STR_CONTAINS(p.server.err, "peer refused our certificate");
	pair_free(&p);
	vmt_tls_creds_free(c);
	vmt_tls_creds_free(s);
}

/*
 * The server refuses a client whose certificate another CA signed. The
 * client trusts both CAs here, so only the server's check can fail; in TLS
 * 1.3 the client may finish its handshake first and hear of the refusal at
 * its first receive.
 */
static void test_x509_server_refuses_wrong_ca(void)
{
	struct vmt_tls_creds *c, *s = x509("server", VMT_TLS_SERVER);
	char cmd[2048], buf[16];
	struct pair p;
	ssize_t n;

	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %1$s/both && cat %1$s/ca-cert.pem %1$s/wrong-ca/ca-cert.pem "
		 ">%1$s/both/ca-cert.pem && cp %1$s/wrong-ca/client/client-*.pem %1$s/both/",
		 certs);
	CHECK_EQ(system(cmd), 0);
	c = x509("both", VMT_TLS_CLIENT);
	handshake(&p, c, s, "localhost");
	CHECK_EQ(p.server.rc, -EACCES);
	CHECK_STR_CONTAINS(p.server.err, "peer's certificate is not signed by our CA");
	if (p.client.rc == 0) {
		n = vmt_tls_recv(p.client.s, buf, sizeof(buf));
		CHECK(n < 0);
		CHECK_STR_CONTAINS(vmt_tls_last_error(p.client.s), "peer refused our certificate");
	} else {
		CHECK_STR_CONTAINS(p.client.err, "peer refused our certificate");
	}
	pair_free(&p);
	vmt_tls_creds_free(c);
	vmt_tls_creds_free(s);
}

static void test_x509_name_mismatch(void)
{
	static const char *const names[] = { "otherhost", "127.0.0.2" };
	struct vmt_tls_creds *c = x509("client", VMT_TLS_CLIENT);
	struct vmt_tls_creds *s = x509("server", VMT_TLS_SERVER);
	char words[64];
	struct pair p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		handshake(&p, c, s, names[i]);
		CHECK_EQ(p.client.rc, -EACCES);
		snprintf(words, sizeof(words), "peer's certificate is not for '%s'", names[i]);
		CHECK_STR_CONTAINS(p.client.err, words);
		CHECK(p.server.rc < 0);
		pair_free(&p);
	}
	vmt_tls_creds_free(c);
	vmt_tls_creds_free(s);
}

/* A missing, mismatched or foreign file fails at load, named. */
static void test_x509_load_errors(void)
{
	struct vmt_tls_creds *c = NULL;
	char cmd[2048], err[512];

	CHECK_EQ(vmt_tls_creds_load_x509(&c, in_certs("client"), VMT_TLS_SERVER, err, sizeof(err)),
		 -ENOENT);
	CHECK_STR_CONTAINS(err, "client/server-cert.pem: No such file");
	CHECK_EQ(vmt_tls_creds_load_x509(&c, in_certs("nowhere"), VMT_TLS_CLIENT, err, sizeof(err)),
		 -ENOENT);
	CHECK_STR_CONTAINS(err, "nowhere/ca-cert.pem");

	/* a key of another certificate */
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %1$s/mixed && cp %1$s/client/*.pem %1$s/mixed/ && "
		 "cp %1$s/wrong-ca/client/client-key.pem %1$s/mixed/",
		 certs);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(vmt_tls_creds_load_x509(&c, in_certs("mixed"), VMT_TLS_CLIENT, err, sizeof(err)),
		 -EINVAL);
	CHECK_STR_CONTAINS(err, "mixed/client-key.pem does not belong to");

	/* a certificate our own CA did not sign */
	snprintf(cmd, sizeof(cmd), "cp %1$s/wrong-ca/client/client-*.pem %1$s/mixed/", certs);
	CHECK_EQ(system(cmd), 0);
	CHECK_EQ(vmt_tls_creds_load_x509(&c, in_certs("mixed"), VMT_TLS_CLIENT, err, sizeof(err)),
		 -EINVAL);
	CHECK_STR_CONTAINS(err, "mixed/client-cert.pem: not signed by");

	write_file(in_certs("mixed/ca-cert.pem"), "not a certificate\n");
	CHECK_EQ(vmt_tls_creds_load_x509(&c, in_certs("mixed"), VMT_TLS_CLIENT, err, sizeof(err)),
		 -EINVAL);
	CHECK_STR_CONTAINS(err, "mixed/ca-cert.pem: no PEM certificate");
	CHECK(c == NULL);
}

/* ---- strangers at the listener ---- */

static void test_plain_bytes_refused(void)
{
	static const char plain[] = "GET / HTTP/1.0\r\n\r\n";
	struct vmt_tls_creds *s = psk("keys.psk", VMT_TLS_SERVER);
	struct vmt_tls_session *ss = NULL;
	char err[256] = "";
	int sv[2];

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ(write(sv[0], plain, sizeof(plain) - 1), (ssize_t)sizeof(plain) - 1);
	CHECK_EQ(vmt_tls_session_start(&ss, s, sv[1], NULL, 5000, err, sizeof(err)), -EPROTO);
	CHECK_STR_CONTAINS(err, "peer is not speaking TLS");
	CHECK(ss == NULL);
	close(sv[0]);
	close(sv[1]);
	vmt_tls_creds_free(s);
}

/* A peer that connects and says nothing is dropped at the timeout. */
static void test_handshake_timeout(void)
{
	struct vmt_tls_creds *s = x509("server", VMT_TLS_SERVER);
	struct vmt_tls_session *ss = NULL;
	char err[256] = "";
	uint64_t t0, ms;
	int sv[2];

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	t0 = vmt_monotonic_ns();
	CHECK_EQ(vmt_tls_session_start(&ss, s, sv[1], NULL, 300, err, sizeof(err)), -ETIMEDOUT);
	ms = (vmt_monotonic_ns() - t0) / NSEC_PER_MSEC;
	CHECK_STR_CONTAINS(err, "handshake timed out after 300 ms");
	CHECK(ms >= 290);
	CHECK(ms < 5000);
	close(sv[0]);
	close(sv[1]);
	vmt_tls_creds_free(s);
}

/* A peer that goes away mid-handshake is named so. */
static void test_peer_closed_in_handshake(void)
{
	struct vmt_tls_creds *s = psk("keys.psk", VMT_TLS_SERVER);
	struct vmt_tls_session *ss = NULL;
	char err[256] = "";
	int sv[2];

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[0]);
	CHECK_EQ(vmt_tls_session_start(&ss, s, sv[1], NULL, 5000, err, sizeof(err)), -ECONNRESET);
	CHECK_STR_CONTAINS(err, "peer closed the connection during the TLS handshake");
	close(sv[1]);
	vmt_tls_creds_free(s);
}

struct old_client {
	int fd;
	int rc;
};

/* A client of our own that offers TLS 1.2 and nothing newer. */
static void *tls12_client(void *arg)
{
	static const unsigned char key[16] = { 1 };
	const gnutls_datum_t k = { .data = (unsigned char *)key, .size = sizeof(key) };
	struct old_client *o = arg;
	gnutls_psk_client_credentials_t cred;
	gnutls_session_t gs;

	gnutls_psk_allocate_client_credentials(&cred);
	gnutls_psk_set_client_credentials(cred, "vfio-migtools", &k, GNUTLS_PSK_KEY_RAW);
	gnutls_init(&gs, GNUTLS_CLIENT);
	gnutls_priority_set_direct(gs, "NORMAL:-VERS-ALL:+VERS-TLS1.2:+ECDHE-PSK:+PSK", NULL);
	gnutls_credentials_set(gs, GNUTLS_CRD_PSK, cred);
	gnutls_transport_set_int(gs, o->fd);
	gnutls_handshake_set_timeout(gs, 5000);
	do
		o->rc = gnutls_handshake(gs);
	while (o->rc < 0 && !gnutls_error_is_fatal(o->rc));
	gnutls_deinit(gs);
	gnutls_psk_free_client_credentials(cred);
	shutdown(o->fd, SHUT_RDWR);
	return NULL;
}

/* TLS 1.3 only: a TLS 1.2 client is refused, in words that say so. */
static void test_tls12_refused(void)
{
	struct vmt_tls_creds *s = psk("keys.psk", VMT_TLS_SERVER);
	struct vmt_tls_session *ss = NULL;
	struct old_client o;
	char err[256] = "";
	pthread_t t;
	int sv[2];

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	o = (struct old_client){ .fd = sv[0] };
	pthread_create(&t, NULL, tls12_client, &o);
	CHECK(vmt_tls_session_start(&ss, s, sv[1], NULL, 5000, err, sizeof(err)) < 0);
	pthread_join(t, NULL);
	CHECK(o.rc < 0);
	CHECK(ss == NULL);
	CHECK_STR_CONTAINS(err, "peer does not speak TLS 1.3");
	close(sv[0]);
	close(sv[1]);
	vmt_tls_creds_free(s);
}

/* ---- data ---- */

#define STREAM_BYTES (8u << 20)

static unsigned char pattern(uint32_t i, unsigned int seed)
{
	return (unsigned char)((i * 2654435761u) >> 24 ^ seed);
}

struct flow {
	struct vmt_tls_session *s;
	unsigned int seed;
	bool ok;
};

/* Sends STREAM_BYTES of the pattern in uneven pieces, then close_notify. */
static void *send_flow(void *arg)
{
	struct flow *f = arg;
	static __thread unsigned char buf[70000];
	uint32_t off = 0, i;
	size_t piece = 1;

	f->ok = true;
	while (off < STREAM_BYTES) {
		size_t len = STREAM_BYTES - off < piece ? STREAM_BYTES - off : piece;
		ssize_t n;

		for (i = 0; i < len; i++)
			buf[i] = pattern(off + i, f->seed);
		n = vmt_tls_send(f->s, buf, len);
		if (n <= 0) {
			f->ok = false;
			return NULL;
		}
		off += (uint32_t)n;
		piece = piece * 3 % sizeof(buf) + 1;
	}
	f->ok = vmt_tls_shutdown_write(f->s) == 0;
	return NULL;
}

/* Receives until close_notify and checks every byte and the count. */
static void *recv_flow(void *arg)
{
	struct flow *f = arg;
	static __thread unsigned char buf[50000];
	uint32_t off = 0, i;
	ssize_t n;

	f->ok = true;
	while ((n = vmt_tls_recv(f->s, buf, sizeof(buf))) > 0) {
		for (i = 0; i < (uint32_t)n; i++)
			if (buf[i] != pattern(off + i, f->seed))
				f->ok = false;
		off += (uint32_t)n;
	}
	if (n < 0 || off != STREAM_BYTES)
		f->ok = false;
	return NULL;
}

/*
 * Each session has one thread sending and one receiving, all four at
 * once; each receiver ends with 0 at its peer's close_notify.
 */
static void test_both_ways_at_once(void)
{
	struct vmt_tls_creds *c = psk("keys.psk", VMT_TLS_CLIENT);
	struct vmt_tls_creds *s = psk("keys.psk", VMT_TLS_SERVER);
	struct flow flows[4];
	pthread_t t[4];
	struct pair p;
	int i;

	handshake(&p, c, s, NULL);
	if (!p.client.s || !p.server.s) {
		CHECK(false);
		return;
	}
	flows[0] = (struct flow){ .s = p.client.s, .seed = 1 };
	flows[1] = (struct flow){ .s = p.server.s, .seed = 1 };
	flows[2] = (struct flow){ .s = p.server.s, .seed = 2 };
	flows[3] = (struct flow){ .s = p.client.s, .seed = 2 };
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, i % 2 ? recv_flow : send_flow, &flows[i]);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK(flows[i].ok);
	}
	pair_free(&p);
	vmt_tls_creds_free(c);
	vmt_tls_creds_free(s);
}

/* Data, then close_notify: the data, then 0, and 0 again. */
static void test_close_notify_is_end(void)
{
	struct vmt_tls_creds *c = psk("keys.psk", VMT_TLS_CLIENT);
	struct vmt_tls_creds *s = psk("keys.psk", VMT_TLS_SERVER);
	char buf[16];
	struct pair p;

	handshake(&p, c, s, NULL);
	if (!p.client.s || !p.server.s) {
		CHECK(false);
		return;
	}
	CHECK_EQ(vmt_tls_send(p.client.s, "last", 4), 4);
	CHECK_EQ(vmt_tls_shutdown_write(p.client.s), 0);
	CHECK_EQ(vmt_tls_recv(p.server.s, buf, sizeof(buf)), 4);
	CHECK_EQ(vmt_tls_recv(p.server.s, buf, sizeof(buf)), 0);
	/* half closed: the other way still works */
	CHECK_EQ(vmt_tls_send(p.server.s, "back", 4), 4);
	CHECK_EQ(vmt_tls_recv(p.client.s, buf, sizeof(buf)), 4);
	pair_free(&p);
	vmt_tls_creds_free(c);
	vmt_tls_creds_free(s);
}

/*
 * The socket closed without close_notify, after whole records or in the
 * middle of one: an error, never a clean end (a truncated channel).
 */
static void test_cut_is_error(void)
{
	struct vmt_tls_creds *c = x509("client", VMT_TLS_CLIENT);
	struct vmt_tls_creds *s = x509("server", VMT_TLS_SERVER);
	char buf[64];
	struct pair p;
	ssize_t n;
	int mid;

	for (mid = 0; mid < 2; mid++) {
		handshake(&p, c, s, "localhost");
		if (!p.client.s || !p.server.s) {
			CHECK(false);
			return;
		}
		CHECK_EQ(vmt_tls_send(p.client.s, "some", 4), 4);
		if (mid)
			/* the first 5 bytes of a record header and no more */
			CHECK_EQ(write(p.client.fd, "\x17\x03\x03\x00\x40", 5), 5);
		shutdown(p.client.fd, SHUT_RDWR);
		CHECK_EQ(vmt_tls_recv(p.server.s, buf, sizeof(buf)), 4);
		n = vmt_tls_recv(p.server.s, buf, sizeof(buf));
		CHECK(n == -ECONNRESET || n == -EPIPE);
		CHECK_STR_CONTAINS(vmt_tls_last_error(p.server.s),
				   "connection cut without TLS close");
		/* and the sender to a cut connection fails, without SIGPIPE */
		CHECK(vmt_tls_send(p.server.s, "more", 4) < 0);
		pair_free(&p);
	}
	vmt_tls_creds_free(c);
	vmt_tls_creds_free(s);
}

static bool make_certs(void)
{
	char cmd[1024];

	if (!mkdtemp(certs))
		return false;
	snprintf(cmd, sizeof(cmd), "%s %s", MAKE_CERTS, certs);
	return system(cmd) == 0;
}

static void remove_certs(void)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", certs);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", certs);
}

int main(void)
{
	int rc;

	if (system("command -v certtool >/dev/null") != 0) {
		printf("1..0 # SKIP certtool not installed (Debian: gnutls-bin)\n");
		return 0;
	}
	if (!make_certs()) {
		printf("Bail out! %s failed\n", MAKE_CERTS);
		return 1;
	}
	RUN(test_psk_ok);
	RUN(test_psk_second_identity);
	RUN(test_psk_wrong_key);
	RUN(test_psk_unknown_identity);
	RUN(test_psk_file_errors);
	RUN(test_x509_ok);
	RUN(test_x509_client_refuses_wrong_ca);
	RUN(test_x509_server_refuses_wrong_ca);
	RUN(test_x509_name_mismatch);
	RUN(test_x509_load_errors);
	RUN(test_plain_bytes_refused);
	RUN(test_handshake_timeout);
	RUN(test_peer_closed_in_handshake);
	RUN(test_tls12_refused);
	RUN(test_both_ways_at_once);
	RUN(test_close_notify_is_end);
	RUN(test_cut_is_error);
	rc = unit_done();
	remove_certs();
	return rc;
}
