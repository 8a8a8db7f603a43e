// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TLS for the socket transport on gnutls; see tls.h.
 *
 * Credentials are read and checked whole when they are loaded, so that a
 * bad file fails the tool before a socket or a device is touched. The
 * handshake's failures are put in the words the listener logs: a plain TCP
 * peer, a certificate our CA did not sign, a wrong PSK, a stall, a close.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "common/c.h"
#include "net/tls.h"

/*
 * TLS 1.3 and nothing older. With a PSK, TLS 1.3 needs the PSK key
 * exchanges named; only those with (EC)DHE, for forward secrecy.
 */
/*
 * AES-GCM before ChaCha20-Poly1305: left to NORMAL's order gnutls 3.7
 * settles on ChaCha20 here, 0.4 GB/s a core against AES-128-GCM's 2.9 with
 * AES-NI (gnutls-cli --benchmark-ciphers), which made one TLS channel cost
 * 2.4 times the CPU (bench/net). ChaCha20 stays for peers without AES.
 */
/* The receiver's read-ahead: a few records per recv(2) (transport_pull). */
#define TLS_PULL_AHEAD (256u << 10)

#define TLS_CIPHERS "-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305"
#define TLS_PRIORITY_X509 "NORMAL:-VERS-ALL:+VERS-TLS1.3:" TLS_CIPHERS
#define TLS_PRIORITY_PSK "NORMAL:-VERS-ALL:+VERS-TLS1.3:+ECDHE-PSK:+DHE-PSK:" TLS_CIPHERS

/*
 * Every TLS record starts with its content type: 20 change_cipher_spec,
 * 21 alert, 22 handshake, 23 application data. A peer whose first byte
 * is none of them is not speaking TLS at all.
 */
#define TLS_CONTENT_FIRST 20
#define TLS_CONTENT_LAST 23

#define PSK_IDENTITY_MAX 128

enum tls_kind {
	TLS_X509,
	TLS_PSK,
};

struct psk_key {
	char *identity;
	unsigned char *key;
	size_t keylen;
};

struct vmt_tls_creds {
	enum tls_kind kind;
	enum vmt_tls_role role;
	char *source; /* the directory or the keys file, for messages */
	gnutls_certificate_credentials_t x509;
	gnutls_psk_client_credentials_t psk_client;
	gnutls_psk_server_credentials_t psk_server;
	struct psk_key *keys; /* a server's table; a client uses keys[0] */
	size_t nkeys;
};

struct vmt_tls_session {
	gnutls_session_t gs;
	const struct vmt_tls_creds *creds;
	int fd;
	/*
	 * The transport's errno, one per direction: the sending thread only
	 * pushes and the receiving thread only pulls.
	 */
	int push_errno;
	int pull_errno;
	bool pulled_eof;
	/*
	 * What one recv(2) brought beyond what gnutls asked for: gnutls pulls a
	 * record's header and then its body, two syscalls a 16 KiB record, and
	 * that was a third of the receiver's CPU. The receiving thread's only.
	 */
	uint8_t *ahead;
	size_t ahead_start, ahead_end;
	bool saw_first_byte; /* during the handshake: is the peer speaking TLS? */
	unsigned char first_byte;
	bool psk_identity_unknown;
	char psk_identity[PSK_IDENTITY_MAX + 1]; /* what a client offered */
	char identity[256];
	/* static strings only, so a reader in the other thread never sees a torn one */
	_Atomic(const char *) last_error;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) VMT_PRINTF(3, 4);

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static struct vmt_tls_creds *creds_new(enum tls_kind kind, enum vmt_tls_role role,
				       const char *source)
{
	struct vmt_tls_creds *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->kind = kind;
	c->role = role;
	c->source = strdup(source);
	if (!c->source) {
		free(c);
		return NULL;
	}
	return c;
}

void vmt_tls_creds_free(struct vmt_tls_creds *creds)
{
	size_t i;

	if (!creds)
		return;
	if (creds->x509)
		gnutls_certificate_free_credentials(creds->x509);
	if (creds->psk_client)
		gnutls_psk_free_client_credentials(creds->psk_client);
	if (creds->psk_server)
		gnutls_psk_free_server_credentials(creds->psk_server);
	for (i = 0; i < creds->nkeys; i++) {
		free(creds->keys[i].identity);
		if (creds->keys[i].key)
			gnutls_memset(creds->keys[i].key, 0, creds->keys[i].keylen);
		free(creds->keys[i].key);
	}
	free(creds->keys);
	free(creds->source);
	free(creds);
}

/* ---- x509 ------------------------------------------------------------ */

/*
 * A PEM file read whole. ENOENT and EACCES are told apart from a file that
 * is there but holds no PEM, because they are fixed differently.
 */
static int load_pem(gnutls_datum_t *out, const char *path, char *err, size_t errlen)
{
	int rc;

	if (access(path, R_OK) < 0) {
		rc = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	rc = gnutls_load_file(path, out);
	if (rc < 0) {
		set_err(err, errlen, "%s: cannot be read: %s", path, gnutls_strerror(rc));
		return -EIO;
	}
	return 0;
}

static char *path_in(const char *dir, const char *name)
{
	char *path;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	return path;
}

struct x509_files {
	gnutls_x509_crt_t *cas;
	unsigned int ncas;
	gnutls_x509_crl_t *crls;
	unsigned int ncrls;
	gnutls_x509_crt_t *certs;
	unsigned int ncerts;
	gnutls_x509_privkey_t key;
};

static void x509_files_free(struct x509_files *f)
{
	unsigned int i;

	for (i = 0; i < f->ncas; i++)
		gnutls_x509_crt_deinit(f->cas[i]);
	for (i = 0; i < f->ncrls; i++)
		gnutls_x509_crl_deinit(f->crls[i]);
	for (i = 0; i < f->ncerts; i++)
		gnutls_x509_crt_deinit(f->certs[i]);
	gnutls_free(f->cas);
	gnutls_free(f->crls);
	gnutls_free(f->certs);
	if (f->key)
		gnutls_x509_privkey_deinit(f->key);
}

/* A CA file may hold several CAs in any order; our own chain is sorted. */
static int load_crt_list(gnutls_x509_crt_t **out, unsigned int *n, const char *dir,
			 const char *name, unsigned int flags, char *err, size_t errlen)
{
	gnutls_datum_t pem = { 0 };
	char *path = path_in(dir, name);
	int rc;

	if (!path)
		return -ENOMEM;
	rc = load_pem(&pem, path, err, errlen);
	if (rc == 0) {
		rc = gnutls_x509_crt_list_import2(out, n, &pem, GNUTLS_X509_FMT_PEM, flags);
		if (rc < 0 || *n == 0) {
			set_err(err, errlen, "%s: no PEM certificate in it (%s)", path,
				rc < 0 ? gnutls_strerror(rc) : "empty");
			rc = -EINVAL;
		}
	}
	gnutls_free(pem.data);
	free(path);
	return rc;
}

/* ca-crl.pem is optional: absent is fine, present must parse. */
static int load_crl_list(struct x509_files *f, const char *dir, char *err, size_t errlen)
{
	gnutls_datum_t pem = { 0 };
	char *path = path_in(dir, "ca-crl.pem");
	int rc = 0;

	if (!path)
		return -ENOMEM;
	if (access(path, F_OK) == 0) {
		rc = load_pem(&pem, path, err, errlen);
		if (rc == 0) {
			rc = gnutls_x509_crl_list_import2(&f->crls, &f->ncrls, &pem,
							  GNUTLS_X509_FMT_PEM, 0);
			if (rc < 0) {
				set_err(err, errlen, "%s: not a PEM CRL (%s)", path,
					gnutls_strerror(rc));
				rc = -EINVAL;
			}
		}
	}
	gnutls_free(pem.data);
	free(path);
	return rc < 0 ? rc : 0;
}

static int load_privkey(struct x509_files *f, const char *dir, const char *name, char *err,
			size_t errlen)
{
	gnutls_datum_t pem = { 0 };
	char *path = path_in(dir, name);
	int rc;

	if (!path)
		return -ENOMEM;
	rc = load_pem(&pem, path, err, errlen);
	if (rc == 0) {
		rc = gnutls_x509_privkey_init(&f->key);
		if (rc == 0)
			rc = gnutls_x509_privkey_import2(f->key, &pem, GNUTLS_X509_FMT_PEM, NULL,
							 GNUTLS_PKCS_PLAIN);
		if (rc < 0) {
			set_err(err, errlen, "%s: not an unencrypted PEM private key (%s)", path,
				gnutls_strerror(rc));
			rc = -EINVAL;
		}
	}
	if (pem.data)
		gnutls_memset(pem.data, 0, pem.size);
	gnutls_free(pem.data);
	free(path);
	return rc;
}

/*
 * Our own certificate must chain to the CA we give the peer and be valid
 * now: the peer would refuse it anyway, but later and with less to say.
 */
static int check_own_cert(const struct x509_files *f, const char *dir, const char *cert_name,
			  char *err, size_t errlen)
{
	gnutls_datum_t words = { 0 };
	unsigned int status = 0;
	int rc;

	rc = gnutls_x509_crt_list_verify(f->certs, f->ncerts, f->cas, f->ncas, f->crls, f->ncrls, 0,
					 &status);
	if (rc < 0) {
		set_err(err, errlen, "%s/%s: cannot be verified: %s", dir, cert_name,
			gnutls_strerror(rc));
		return -EINVAL;
	}
	if (status == 0)
		return 0;
	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		set_err(err, errlen, "%s/%s: not signed by %s/ca-cert.pem", dir, cert_name, dir);
	else if (status & GNUTLS_CERT_REVOKED)
		set_err(err, errlen, "%s/%s: revoked by %s/ca-crl.pem", dir, cert_name, dir);
	else if (status & GNUTLS_CERT_EXPIRED)
		set_err(err, errlen, "%s/%s: expired", dir, cert_name);
	else if (status & GNUTLS_CERT_NOT_ACTIVATED)
		set_err(err, errlen, "%s/%s: not valid yet", dir, cert_name);
	else if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &words, 0) ==
		 0)
		set_err(err, errlen, "%s/%s: %s", dir, cert_name, (const char *)words.data);
	else
		set_err(err, errlen, "%s/%s: invalid (status 0x%x)", dir, cert_name, status);
	gnutls_free(words.data);
	return -EINVAL;
}

static int x509_files_load(struct x509_files *f, const char *dir, enum vmt_tls_role role, char *err,
			   size_t errlen)
{
	bool server = role == VMT_TLS_SERVER;
	const char *cert_name = server ? "server-cert.pem" : "client-cert.pem";
	const char *key_name = server ? "server-key.pem" : "client-key.pem";
	int rc;

	rc = load_crt_list(&f->cas, &f->ncas, dir, "ca-cert.pem", 0, err, errlen);
	if (rc == 0)
		rc = load_crl_list(f, dir, err, errlen);
	if (rc == 0)
		rc = load_crt_list(&f->certs, &f->ncerts, dir, cert_name, GNUTLS_X509_CRT_LIST_SORT,
				   err, errlen);
	if (rc == 0)
		rc = load_privkey(f, dir, key_name, err, errlen);
	if (rc == 0)
		rc = check_own_cert(f, dir, cert_name, err, errlen);
	return rc;
}

static int x509_creds_fill(struct vmt_tls_creds *c, struct x509_files *f, enum vmt_tls_role role,
			   char *err, size_t errlen)
{
	const char *dir = c->source;
	int rc;

	rc = gnutls_certificate_allocate_credentials(&c->x509);
	if (rc < 0)
		return -ENOMEM;
	rc = gnutls_certificate_set_x509_trust(c->x509, f->cas, (int)f->ncas);
	if (rc >= 0 && f->ncrls)
		rc = gnutls_certificate_set_x509_crl(c->x509, f->crls, (int)f->ncrls);
	if (rc < 0) {
		set_err(err, errlen, "%s/ca-cert.pem: %s", dir, gnutls_strerror(rc));
		return -EINVAL;
	}
	rc = gnutls_certificate_set_x509_key(c->x509, f->certs, f->ncerts, f->key);
	if (rc < 0) {
		set_err(err, errlen, "%s/%s does not belong to %s/%s: %s", dir,
			role == VMT_TLS_SERVER ? "server-key.pem" : "client-key.pem", dir,
			role == VMT_TLS_SERVER ? "server-cert.pem" : "client-cert.pem",
			gnutls_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

int vmt_tls_creds_load_x509(struct vmt_tls_creds **out, const char *dir, enum vmt_tls_role role,
			    char *err, size_t errlen)
{
	struct x509_files files = { 0 };
	struct vmt_tls_creds *c;
	int rc;

	*out = NULL;
	c = creds_new(TLS_X509, role, dir);
	if (!c)
		return -ENOMEM;
	rc = x509_files_load(&files, dir, role, err, errlen);
	if (rc == 0)
		rc = x509_creds_fill(c, &files, role, err, errlen);
	/* the credentials hold copies: the parsed files go */
	x509_files_free(&files);
	if (rc < 0) {
		vmt_tls_creds_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---- PSK -------------------------------------------------------------- */

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The HEXKEY of a line: an even number of hex digits, at least one byte. */
static const char *parse_hex_key(struct psk_key *k, const char *hex)
{
	size_t len = strlen(hex), i;

	if (len == 0)
		return "empty key";
	if (len % 2)
		return "odd number of hex digits in the key";
	k->key = malloc(len / 2);
	if (!k->key)
		return "out of memory";
	k->keylen = len / 2;
	for (i = 0; i < k->keylen; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return "the key is not hexadecimal";
		k->key[i] = (unsigned char)(hi << 4 | lo);
	}
	return NULL;
}

static bool identity_known(const struct vmt_tls_creds *c, const char *identity)
{
	size_t i;

	for (i = 0; i < c->nkeys; i++)
		if (strcmp(c->keys[i].identity, identity) == 0)
			return true;
	return false;
}

/* One IDENTITY:HEXKEY line, newline already gone; NULL or why not. */
static const char *parse_psk_line(struct vmt_tls_creds *c, char *line)
{
	char *colon = strchr(line, ':');
	struct psk_key *keys, *k;
	const char *why;

	if (!colon)
		return "not IDENTITY:HEXKEY";
	*colon = '\0';
	if (colon == line)
		return "empty identity";
	if (colon - line > PSK_IDENTITY_MAX)
		return "identity longer than 128 bytes";
	if (identity_known(c, line))
		return "identity given twice";
	keys = realloc(c->keys, (c->nkeys + 1) * sizeof(*keys));
	if (!keys)
		return "out of memory";
	c->keys = keys;
	k = &keys[c->nkeys];
	*k = (struct psk_key){ .identity = strdup(line) };
	c->nkeys++;
	if (!k->identity)
		return "out of memory";
	why = parse_hex_key(k, colon + 1);
	return why;
}

static int psk_file_parse(struct vmt_tls_creds *c, FILE *in, const char *file, char *err,
			  size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned int lineno = 0;
	const char *why = NULL;

	while (!why && (len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		why = parse_psk_line(c, line);
	}
	if (line)
		gnutls_memset(line, 0, cap);
	free(line);
	if (why) {
		set_err(err, errlen, "%s:%u: %s", file, lineno, why);
		return -EINVAL;
	}
	if (ferror(in)) {
		set_err(err, errlen, "%s: %s", file, strerror(EIO));
		return -EIO;
	}
	if (c->nkeys == 0) {
		set_err(err, errlen, "%s: no IDENTITY:HEXKEY line in it", file);
		return -EINVAL;
	}
	return 0;
}

/*
 * gnutls asks for the key of the identity a client offers; the session
 * notes an identity not in the file so the failure can name it.
 */
static int psk_server_key(gnutls_session_t gs, const char *identity, gnutls_datum_t *key)
{
	struct vmt_tls_session *s = gnutls_session_get_ptr(gs);
	const struct vmt_tls_creds *c = s->creds;
	size_t i;

	snprintf(s->psk_identity, sizeof(s->psk_identity), "%s", identity);
	for (i = 0; i < c->nkeys; i++) {
		if (strcmp(c->keys[i].identity, identity) != 0)
			continue;
		key->data = gnutls_malloc(c->keys[i].keylen);
		if (!key->data)
			return -1;
		memcpy(key->data, c->keys[i].key, c->keys[i].keylen);
		key->size = (unsigned int)c->keys[i].keylen;
		return 0;
	}
	s->psk_identity_unknown = true;
	return -1;
}

static int psk_creds_fill(struct vmt_tls_creds *c)
{
	gnutls_datum_t key;
	int rc;

	if (c->role == VMT_TLS_SERVER) {
		rc = gnutls_psk_allocate_server_credentials(&c->psk_server);
		if (rc < 0)
			return -ENOMEM;
		gnutls_psk_set_server_credentials_function(c->psk_server, psk_server_key);
		return 0;
	}
	rc = gnutls_psk_allocate_client_credentials(&c->psk_client);
	if (rc < 0)
		return -ENOMEM;
	key.data = c->keys[0].key;
	key.size = (unsigned int)c->keys[0].keylen;
	rc = gnutls_psk_set_client_credentials(c->psk_client, c->keys[0].identity, &key,
					       GNUTLS_PSK_KEY_RAW);
	return rc < 0 ? -ENOMEM : 0;
}

int vmt_tls_creds_load_psk(struct vmt_tls_creds **out, const char *file, enum vmt_tls_role role,
			   char *err, size_t errlen)
{
	struct vmt_tls_creds *c;
	FILE *in;
	int rc;

	*out = NULL;
	c = creds_new(TLS_PSK, role, file);
	if (!c)
		return -ENOMEM;
	in = fopen(file, "re");
	if (!in) {
		rc = -errno;
		set_err(err, errlen, "%s: %s", file, strerror(errno));
		vmt_tls_creds_free(c);
		return rc;
	}
	rc = psk_file_parse(c, in, file, err, errlen);
	fclose(in);
	if (rc == 0)
		rc = psk_creds_fill(c);
	if (rc < 0) {
		vmt_tls_creds_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---- the transport ---------------------------------------------------- */

/*
 * Our own push and pull, so that each direction keeps its errno for the
 * message (gnutls says only "push error"), a send never raises SIGPIPE,
 * and the handshake sees the first byte the peer sent.
 */
static ssize_t transport_push(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
	struct vmt_tls_session *s = ptr;
	ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);

	if (n < 0) {
		s->push_errno = errno;
		gnutls_transport_set_errno(s->gs, errno);
	}
	return n;
}

static ssize_t transport_vec_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct vmt_tls_session *s = ptr;
	struct msghdr msg = {
		.msg_iov = (struct iovec *)iov,
		.msg_iovlen = (size_t)iovcnt,
	};
	ssize_t n = sendmsg(s->fd, &msg, MSG_NOSIGNAL);

	if (n < 0) {
		s->push_errno = errno;
		gnutls_transport_set_errno(s->gs, errno);
	}
	return n;
}

static ssize_t transport_pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	struct vmt_tls_session *s = ptr;
	size_t have = s->ahead_end - s->ahead_start;
	ssize_t n;

	if (have == 0) {
		if (!s->ahead && !(s->ahead = malloc(TLS_PULL_AHEAD))) {
			s->pull_errno = ENOMEM;
			gnutls_transport_set_errno(s->gs, ENOMEM);
			return -1;
		}
		n = recv(s->fd, s->ahead, TLS_PULL_AHEAD, 0);
		if (n < 0) {
			s->pull_errno = errno;
			gnutls_transport_set_errno(s->gs, errno);
			return n;
		}
		if (n == 0) {
			s->pulled_eof = true;
			return 0;
		}
		if (!s->saw_first_byte) {
			s->saw_first_byte = true;
			s->first_byte = s->ahead[0];
		}
		s->ahead_start = 0;
		s->ahead_end = have = (size_t)n;
	}
	if (len > have)
		len = have;
	memcpy(buf, s->ahead + s->ahead_start, len);
	s->ahead_start += len;
	return (ssize_t)len;
}

/* gnutls waits here during the handshake, so its timeout is ours. */
static int transport_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct vmt_tls_session *s = ptr;
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	int n;

	if (s->ahead_end > s->ahead_start)
		return 1; /* already here */

	do
		n = poll(&pfd, 1,
			 ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)(ms > INT_MAX ? INT_MAX : ms));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		s->pull_errno = errno;
		gnutls_transport_set_errno(s->gs, errno);
	}
	return n;
}

/* ---- the handshake ---------------------------------------------------- */

static bool is_ip_address(const char *name)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, name, &a4) == 1 || inet_pton(AF_INET6, name, &a6) == 1;
}

static int session_configure(struct vmt_tls_session *s, const char *peer_name)
{
	const struct vmt_tls_creds *c = s->creds;
	bool server = c->role == VMT_TLS_SERVER;
	int rc;

	rc = gnutls_priority_set_direct(
		s->gs, c->kind == TLS_PSK ? TLS_PRIORITY_PSK : TLS_PRIORITY_X509, NULL);
	if (rc < 0)
		return rc;
	if (c->kind == TLS_PSK) {
		if (server)
			return gnutls_credentials_set(s->gs, GNUTLS_CRD_PSK, c->psk_server);
		snprintf(s->psk_identity, sizeof(s->psk_identity), "%s", c->keys[0].identity);
		return gnutls_credentials_set(s->gs, GNUTLS_CRD_PSK, c->psk_client);
	}
	rc = gnutls_credentials_set(s->gs, GNUTLS_CRD_CERTIFICATE, c->x509);
	if (rc < 0)
		return rc;
	if (server) {
		gnutls_certificate_server_set_request(s->gs, GNUTLS_CERT_REQUIRE);
		/*
		 * No list of acceptable CAs: a client whose certificate
		 * another CA signed then sends it, and the refusal can say
		 * so instead of "no certificate".
		 */
		gnutls_certificate_send_x509_rdn_sequence(s->gs, 1);
		peer_name = NULL; /* a client is known by its CA, not its name */
	} else if (peer_name && *peer_name && !is_ip_address(peer_name)) {
		/* SNI, for a server that has several names; never an address */
		rc = gnutls_server_name_set(s->gs, GNUTLS_NAME_DNS, peer_name, strlen(peer_name));
		if (rc < 0)
			return rc;
	}
	/* the handshake fails on a certificate the CA did not sign or a wrong name */
	gnutls_session_set_verify_cert(s->gs, peer_name && *peer_name ? peer_name : NULL, 0);
	return 0;
}

static int session_new(struct vmt_tls_session **out, const struct vmt_tls_creds *creds, int fd,
		       const char *peer_name)
{
	unsigned int flags = creds->role == VMT_TLS_SERVER ? GNUTLS_SERVER : GNUTLS_CLIENT;
	struct vmt_tls_session *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	s->creds = creds;
	s->fd = fd;
	atomic_init(&s->last_error, NULL);
	/* no resumption here: a ticket would be one more message for nothing */
	rc = gnutls_init(&s->gs, flags | GNUTLS_NO_TICKETS);
	if (rc < 0) {
		free(s);
		return -ENOMEM;
	}
	gnutls_session_set_ptr(s->gs, s);
	gnutls_transport_set_ptr(s->gs, s);
	gnutls_transport_set_push_function(s->gs, transport_push);
	gnutls_transport_set_vec_push_function(s->gs, transport_vec_push);
	gnutls_transport_set_pull_function(s->gs, transport_pull);
	gnutls_transport_set_pull_timeout_function(s->gs, transport_pull_timeout);
	rc = session_configure(s, peer_name);
	if (rc < 0) {
		vmt_tls_session_free(s);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

static void format_timeout(char *buf, size_t len, int timeout_ms)
{
	if (timeout_ms % 1000 == 0)
		snprintf(buf, len, "%d s", timeout_ms / 1000);
	else
		snprintf(buf, len, "%d ms", timeout_ms);
}

/* Our verification of the peer's certificate failed: say which way. */
static int explain_verify_failure(struct vmt_tls_session *s, const char *peer_name, char *err,
				  size_t errlen)
{
	unsigned int status = gnutls_session_get_verify_cert_status(s->gs);
	const char *dir = s->creds->source;

	if (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA))
		set_err(err, errlen, "peer's certificate is not signed by our CA (%s/ca-cert.pem)",
			dir);
	else if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		set_err(err, errlen, "peer's certificate is not for '%s'",
			peer_name ? peer_name : "");
	else if (status & GNUTLS_CERT_REVOKED)
		set_err(err, errlen, "peer's certificate is revoked by %s/ca-crl.pem", dir);
	else if (status & GNUTLS_CERT_EXPIRED)
		set_err(err, errlen, "peer's certificate has expired");
	else if (status & GNUTLS_CERT_NOT_ACTIVATED)
		set_err(err, errlen, "peer's certificate is not valid yet");
	else
		set_err(err, errlen, "peer's certificate is refused (status 0x%x)", status);
	return -EACCES;
}

/* The peer sent a fatal alert: it refused us. */
static int explain_alert(struct vmt_tls_session *s, char *err, size_t errlen)
{
	gnutls_alert_description_t alert = gnutls_alert_get(s->gs);
	const char *name = gnutls_alert_get_name(alert);

	switch (alert) {
	case GNUTLS_A_UNKNOWN_CA:
	case GNUTLS_A_BAD_CERTIFICATE:
	case GNUTLS_A_CERTIFICATE_UNKNOWN:
	case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
	case GNUTLS_A_CERTIFICATE_REVOKED:
	case GNUTLS_A_CERTIFICATE_EXPIRED:
	case GNUTLS_A_CERTIFICATE_REQUIRED:
		set_err(err, errlen, "peer refused our certificate (%s)", name);
		return -EACCES;
	case GNUTLS_A_UNKNOWN_PSK_IDENTITY:
		set_err(err, errlen, "peer does not know our PSK identity '%s'", s->psk_identity);
		return -EACCES;
	case GNUTLS_A_DECRYPT_ERROR:
	case GNUTLS_A_ILLEGAL_PARAMETER:
	case GNUTLS_A_HANDSHAKE_FAILURE:
		if (s->creds->kind == TLS_PSK) {
			set_err(err, errlen, "wrong PSK: peer refused our key for '%s' (%s)",
				s->psk_identity, name);
			return -EACCES;
		}
		break;
	case GNUTLS_A_PROTOCOL_VERSION:
		set_err(err, errlen, "peer does not speak TLS 1.3");
		return -EPROTO;
	default:
		break;
	}
	set_err(err, errlen, "peer refused the TLS handshake (%s)", name ? name : "unknown alert");
	return -EACCES;
}

static bool peer_not_tls(const struct vmt_tls_session *s)
{
	return s->saw_first_byte &&
	       (s->first_byte < TLS_CONTENT_FIRST || s->first_byte > TLS_CONTENT_LAST);
}

static bool peer_closed(const struct vmt_tls_session *s, int rc)
{
	return rc == GNUTLS_E_PREMATURE_TERMINATION || s->pulled_eof ||
	       (rc == GNUTLS_E_PULL_ERROR && s->pull_errno == ECONNRESET) ||
	       (rc == GNUTLS_E_PUSH_ERROR &&
		(s->push_errno == EPIPE || s->push_errno == ECONNRESET));
}

/* What a failed gnutls_handshake() means, in the listener's words. */
static int explain_handshake_failure(struct vmt_tls_session *s, int rc, const char *peer_name,
				     int timeout_ms, char *err, size_t errlen)
{
	char when[32];

	if (rc == GNUTLS_E_TIMEDOUT) {
		format_timeout(when, sizeof(when), timeout_ms);
		set_err(err, errlen, "handshake timed out after %s", when);
		return -ETIMEDOUT;
	}
	if (peer_not_tls(s)) {
		set_err(err, errlen, "peer is not speaking TLS");
		return -EPROTO;
	}
	if (rc == GNUTLS_E_UNSUPPORTED_VERSION_PACKET) {
		set_err(err, errlen, "peer does not speak TLS 1.3");
		return -EPROTO;
	}
	if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
		return explain_verify_failure(s, peer_name, err, errlen);
	if (rc == GNUTLS_E_NO_CERTIFICATE_FOUND || rc == GNUTLS_E_CERTIFICATE_REQUIRED) {
		set_err(err, errlen, "peer sent no certificate");
		return -EACCES;
	}
	if (s->psk_identity_unknown) {
		set_err(err, errlen, "unknown PSK identity '%s' (not in %s)", s->psk_identity,
			s->creds->source);
		return -EACCES;
	}
	if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED)
		return explain_alert(s, err, errlen);
	if (s->creds->kind == TLS_PSK && s->creds->role == VMT_TLS_SERVER &&
	    (rc == GNUTLS_E_DECRYPTION_FAILED || rc == GNUTLS_E_RECEIVED_ILLEGAL_PARAMETER ||
	     rc == GNUTLS_E_INSUFFICIENT_CREDENTIALS)) {
		set_err(err, errlen, "wrong PSK for identity '%s'", s->psk_identity);
		return -EACCES;
	}
	if (peer_closed(s, rc)) {
		set_err(err, errlen, "peer closed the connection during the TLS handshake");
		return -ECONNRESET;
	}
	if (rc == GNUTLS_E_PULL_ERROR || rc == GNUTLS_E_PUSH_ERROR) {
		int e = rc == GNUTLS_E_PULL_ERROR ? s->pull_errno : s->push_errno;

		set_err(err, errlen, "TLS handshake: %s", strerror(e ? e : EIO));
		return e ? -e : -EIO;
	}
	set_err(err, errlen, "TLS handshake failed: %s", gnutls_strerror(rc));
	return -EPROTO;
}

static void note_peer_identity(struct vmt_tls_session *s)
{
	const gnutls_datum_t *certs;
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = { 0 };
	unsigned int n = 0;

	if (s->creds->kind == TLS_PSK) {
		if (s->creds->role == VMT_TLS_SERVER)
			snprintf(s->identity, sizeof(s->identity), "%s",
				 gnutls_psk_server_get_username(s->gs) ?: s->psk_identity);
		else
			snprintf(s->identity, sizeof(s->identity), "%s", s->psk_identity);
		return;
	}
	certs = gnutls_certificate_get_peers(s->gs, &n);
	if (!certs || !n || gnutls_x509_crt_init(&crt) < 0)
		return;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0 &&
	    gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0)
		snprintf(s->identity, sizeof(s->identity), "%s", (const char *)dn.data);
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
}

int vmt_tls_session_start(struct vmt_tls_session **out, const struct vmt_tls_creds *creds, int fd,
			  const char *peer_name, int timeout_ms, char *err, size_t errlen)
{
	struct vmt_tls_session *s;
	int rc;

	*out = NULL;
	rc = session_new(&s, creds, fd, peer_name);
	if (rc < 0) {
		set_err(err, errlen, "TLS session: %s", strerror(-rc));
		return rc;
	}
	gnutls_handshake_set_timeout(s->gs, timeout_ms > 0 ? (unsigned int)timeout_ms
							   : GNUTLS_INDEFINITE_TIMEOUT);
	do
		rc = gnutls_handshake(s->gs);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	if (rc < 0) {
		/* the peer learns why (unknown CA, bad binder...) rather than a bare close */
		if (s->psk_identity_unknown)
			gnutls_alert_send(s->gs, GNUTLS_AL_FATAL, GNUTLS_A_UNKNOWN_PSK_IDENTITY);
		else if (rc != GNUTLS_E_TIMEDOUT && rc != GNUTLS_E_FATAL_ALERT_RECEIVED &&
			 rc != GNUTLS_E_PREMATURE_TERMINATION)
			gnutls_alert_send_appropriate(s->gs, rc);
		rc = explain_handshake_failure(s, rc, peer_name, timeout_ms, err, errlen);
		vmt_tls_session_free(s);
		return rc;
	}
	note_peer_identity(s);
	*out = s;
	return 0;
}

const char *vmt_tls_peer_identity(const struct vmt_tls_session *s)
{
	return s->identity;
}

/* ---- data ------------------------------------------------------------- */

/*
 * In TLS 1.3 a client's handshake ends before the server has checked the
 * client's certificate, so a refusal can arrive as the first record.
 */
static const char *alert_words(gnutls_alert_description_t alert)
{
	switch (alert) {
	case GNUTLS_A_UNKNOWN_CA:
	case GNUTLS_A_BAD_CERTIFICATE:
	case GNUTLS_A_CERTIFICATE_UNKNOWN:
	case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
	case GNUTLS_A_CERTIFICATE_REVOKED:
	case GNUTLS_A_CERTIFICATE_EXPIRED:
	case GNUTLS_A_CERTIFICATE_REQUIRED:
		return "peer refused our certificate";
	default:
		return "peer ended the TLS session with a fatal alert";
	}
}

static ssize_t record_error(struct vmt_tls_session *s, ssize_t rc, bool sending)
{
	int e = sending ? s->push_errno : s->pull_errno;

	/* an end of file without close_notify, between records or inside one */
	if (!sending && s->pulled_eof && rc != GNUTLS_E_INTERRUPTED && rc != GNUTLS_E_AGAIN) {
		atomic_store(&s->last_error, "connection cut without TLS close");
		return -ECONNRESET;
	}
	switch (rc) {
	case GNUTLS_E_INTERRUPTED:
		return -EINTR;
	case GNUTLS_E_AGAIN:
		return -EAGAIN;
	case GNUTLS_E_PREMATURE_TERMINATION:
		atomic_store(&s->last_error, "connection cut without TLS close");
		return -ECONNRESET;
	case GNUTLS_E_PUSH_ERROR:
	case GNUTLS_E_PULL_ERROR:
		if (e == EPIPE || e == ECONNRESET) {
			atomic_store(&s->last_error, "connection cut without TLS close");
			return -e;
		}
		atomic_store(&s->last_error, e ? strerror(e) : "transport error");
		return e ? -e : -EIO;
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		atomic_store(&s->last_error, alert_words(gnutls_alert_get(s->gs)));
		return -ECONNRESET;
	default:
		atomic_store(&s->last_error, gnutls_strerror((int)rc));
		return -EIO;
	}
}

/*
 * -EINTR and -EAGAIN (a signal, a socket timeout) leave the record half
 * sent: gnutls wants the same call again, with the same buffer.
 */
/*
 * A record holds at most 16 KiB: the records of one call are corked into
 * one write to the socket, not one send(2) each, which costs a loopback
 * channel about as much as the encryption. All of buf, or -errno.
 */
ssize_t vmt_tls_send(struct vmt_tls_session *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t done = 0;
	ssize_t n;

	gnutls_record_cork(s->gs);
	while (done < len) {
		n = gnutls_record_send(s->gs, p + done, len - done);
		if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN)
			continue;
		if (n < 0)
			return record_error(s, n, true);
		done += (size_t)n;
	}
	do
		n = gnutls_record_uncork(s->gs, GNUTLS_RECORD_WAIT);
	while (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN);
	return n < 0 ? record_error(s, n, true) : (ssize_t)len;
}

/*
 * One record, and then the records gnutls already holds decrypted, up to
 * len: the caller passes on a few hundred KiB at a time, not 16 KiB.
 */
ssize_t vmt_tls_recv(struct vmt_tls_session *s, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n, more;

	do
		n = gnutls_record_recv(s->gs, p, len);
	while (n == GNUTLS_E_WARNING_ALERT_RECEIVED);
	/* 0 only after close_notify: gnutls reports a bare EOF as premature */
	if (n < 0)
		return record_error(s, n, false);
	while ((size_t)n < len && gnutls_record_check_pending(s->gs) > 0) {
		more = gnutls_record_recv(s->gs, p + n, len - (size_t)n);
		if (more <= 0)
			break; /* told again by the next call */
		n += more;
	}
	return n;
}

int vmt_tls_shutdown_write(struct vmt_tls_session *s)
{
	int rc;

	do
		rc = gnutls_bye(s->gs, GNUTLS_SHUT_WR);
	while (rc == GNUTLS_E_INTERRUPTED || rc == GNUTLS_E_AGAIN);
	return rc < 0 ? (int)record_error(s, rc, true) : 0;
}

const char *vmt_tls_last_error(const struct vmt_tls_session *s)
{
	const char *e = atomic_load(&s->last_error);

	return e ? e : "no error";
}

void vmt_tls_session_free(struct vmt_tls_session *s)
{
	if (!s)
		return;
	gnutls_deinit(s->gs);
	free(s->ahead);
	free(s);
}
