// SPDX-License-Identifier: MIT
/* The exporter-toolkit web config (docs/web-configuration.md of prometheus/exporter-toolkit):
 *
 *   tls_server_config:
 *     cert_file: server.crt          # relative names are taken from the file's directory
 *     key_file: server.key
 *     client_auth_type: RequireAndVerifyClientCert   # or NoClientCert, VerifyClientCertIfGiven
 *     client_ca_file: ca.crt
 *     min_version: TLS12             # TLS12 (default) or TLS13; older versions are refused
 *   basic_auth_users:
 *     alice: $2y$10$...              # bcrypt, as htpasswd -B or python's crypt make them
 *
 * Keys vmmemtop does not implement (cipher_suites, http_server_config, rate_limit...) are
 * refused by name rather than ignored: a file that asks for something must get it. */
#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <yaml.h>
#include "fileio.h"
#include "web_config.h"

#define PRIO_TLS12 "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define PRIO_TLS13 "NORMAL:-VERS-ALL:+VERS-TLS1.3"
#define PRIO_TLS12_ONLY "NORMAL:-VERS-ALL:+VERS-TLS1.2"

struct parse {
	yaml_document_t *doc;
	char *err;
	size_t errsz;
	int ret;
};

static int fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->ret) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errsz, fmt, ap);
		va_end(ap);
		p->ret = -EINVAL;
	}
	return p->ret;
}

/* Error text quotes keys and paths from the file, and YAML folds a run of CRs inside a plain
 * scalar into line breaks: blank every control byte so the message stays one line. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* A scalar's text, or NULL (and an error) for anything else. */
static const char *scalar(struct parse *p, yaml_node_t *n, const char *what)
{
	if (!n || n->type != YAML_SCALAR_NODE) {
		fail(p, "%s: expected a string", what);
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		fail(p, "%s: contains a NUL byte", what);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static char *join(const char *dir, const char *name)
{
	char *s;

	if (name[0] == '/' || !dir || !dir[0])
		return strdup(name);
	return asprintf(&s, "%s/%s", dir, name) < 0 ? NULL : s;
}

static int set_path(struct parse *p, char **dst, yaml_node_t *v, const char *dir, const char *what)
{
	const char *s = scalar(p, v, what);

	if (!s)
		return p->ret;
	if (!s[0])
		return 0;	/* empty: unset, as exporter-toolkit reads it */
	free(*dst);
	*dst = join(dir, s);
	return *dst ? 0 : fail(p, "out of memory");
}

static int parse_version(struct parse *p, yaml_node_t *v, const char *what, int *out)
{
	const char *s = scalar(p, v, what);

	if (!s)
		return p->ret;
	if (!strcmp(s, "TLS12"))
		*out = 12;
	else if (!strcmp(s, "TLS13"))
		*out = 13;
	else if (!strcmp(s, "TLS10") || !strcmp(s, "TLS11"))
		return fail(p, "%s: %s is refused: TLS 1.2 is the oldest version vmmemtop speaks", what, s);
	else
		return fail(p, "%s: '%s' is not TLS12 or TLS13", what, s);
	return 0;
}

static int parse_tls(struct parse *p, yaml_node_t *m, const char *dir, struct web_config *c)
{
	int min = 12, max = 13;

	if (m->type == YAML_SCALAR_NODE && !m->data.scalar.length)
		return 0;	/* "tls_server_config:" with nothing under it */
	if (m->type != YAML_MAPPING_NODE)
		return fail(p, "tls_server_config: expected a mapping");
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		const char *k = scalar(p, yaml_document_get_node(p->doc, pr->key), "tls_server_config key");
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);

		if (!k)
			return p->ret;
		if (!strcmp(k, "cert_file"))
			set_path(p, &c->cert_file, v, dir, "tls_server_config.cert_file");
		else if (!strcmp(k, "key_file"))
			set_path(p, &c->key_file, v, dir, "tls_server_config.key_file");
		else if (!strcmp(k, "client_ca_file"))
			set_path(p, &c->client_ca_file, v, dir, "tls_server_config.client_ca_file");
		else if (!strcmp(k, "min_version"))
			parse_version(p, v, "tls_server_config.min_version", &min);
		else if (!strcmp(k, "max_version"))
			parse_version(p, v, "tls_server_config.max_version", &max);
		else if (!strcmp(k, "client_auth_type")) {
			const char *s = scalar(p, v, "tls_server_config.client_auth_type");

			if (!s)
				return p->ret;
			if (!strcmp(s, "NoClientCert") || !s[0])
				c->client_auth = WEB_CLIENT_NONE;
			else if (!strcmp(s, "VerifyClientCertIfGiven"))
				c->client_auth = WEB_CLIENT_VERIFY_IF_GIVEN;
			else if (!strcmp(s, "RequireAndVerifyClientCert"))
				c->client_auth = WEB_CLIENT_REQUIRE_VERIFY;
			else if (!strcmp(s, "RequestClientCert") || !strcmp(s, "RequireAnyClientCert"))
				return fail(p, "tls_server_config.client_auth_type: %s accepts unverified certificates "
					    "and is not supported; use RequireAndVerifyClientCert", s);
			else
				return fail(p, "tls_server_config.client_auth_type: unknown value '%s'", s);
		} else
			return fail(p, "tls_server_config.%s: not supported by vmmemtop (supported: cert_file, key_file, "
				    "client_auth_type, client_ca_file, min_version, max_version)", k);
		if (p->ret)
			return p->ret;
	}
	if (min > max)
		return fail(p, "tls_server_config: min_version is above max_version");
	c->priorities = min == 13 ? PRIO_TLS13 : max == 12 ? PRIO_TLS12_ONLY : PRIO_TLS12;
	if (!c->cert_file && !c->key_file)
		return c->client_auth != WEB_CLIENT_NONE || c->client_ca_file ?
		       fail(p, "tls_server_config: client certificates need cert_file and key_file") : 0;
	if (!c->cert_file)
		return fail(p, "tls_server_config: key_file without cert_file");
	if (!c->key_file)
		return fail(p, "tls_server_config: cert_file without key_file");
	if (c->client_auth != WEB_CLIENT_NONE && !c->client_ca_file)
		return fail(p, "tls_server_config: client_auth_type needs client_ca_file");
	if (c->client_auth == WEB_CLIENT_NONE && c->client_ca_file)
		return fail(p, "tls_server_config: client_ca_file is set but client_auth_type does not verify clients "
			    "(RequireAndVerifyClientCert)");
	c->tls = true;
	return 0;
}

static bool is_bcrypt(const char *h)
{
	if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || h[3] != '$' ||
	    h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return false;
	return (h[4] - '0') * 10 + h[5] - '0' >= 4 && (h[4] - '0') * 10 + h[5] - '0' <= 31;
}

static int parse_users(struct parse *p, yaml_node_t *m, struct web_config *c)
{
	size_t n;

	if (m->type == YAML_SCALAR_NODE && !m->data.scalar.length)
		return 0;
	if (m->type != YAML_MAPPING_NODE)
		return fail(p, "basic_auth_users: expected a mapping of user: bcrypt hash");
	n = m->data.mapping.pairs.top - m->data.mapping.pairs.start;
	c->users = calloc(n ? n : 1, sizeof(*c->users));
	if (!c->users)
		return fail(p, "out of memory");
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		const char *k = scalar(p, yaml_document_get_node(p->doc, pr->key), "basic_auth_users: user name");
		const char *v = k ? scalar(p, yaml_document_get_node(p->doc, pr->value), "basic_auth_users: hash") : NULL;

		if (!v)
			return p->ret;
		if (!k[0] || strchr(k, ':'))
			return fail(p, "basic_auth_users: '%s' is not a user name (empty or with ':')", k);
		if (!is_bcrypt(v))
			return fail(p, "basic_auth_users: %s: not a bcrypt hash ($2y$COST$ and 53 characters)", k);
		for (size_t i = 0; i < c->nr_users; i++)
			if (!strcmp(c->users[i].name, k))
				return fail(p, "basic_auth_users: %s appears twice", k);
		c->users[c->nr_users].name = strdup(k);
		c->users[c->nr_users].hash = strdup(v);
		if (!c->users[c->nr_users].name || !c->users[c->nr_users].hash) {
			c->nr_users++;
			return fail(p, "out of memory");
		}
		c->nr_users++;
	}
	return 0;
}

/* A hash of the same cost as the first user's, for unknown users to be checked against.
 * (Made by web_config_load, not the parser: a cost-31 hash takes days, and the fuzzer
 * would find one.) */
static int make_dummy(struct web_config *c, char *err, size_t errsz)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;

	if (!c->nr_users)
		return 0;
	cd = calloc(1, sizeof(*cd));
	if (!cd) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	if (!crypt_gensalt_rn("$2b$", strtoul(c->users[0].hash + 4, NULL, 10), NULL, 0, salt, sizeof(salt)) ||
	    !(h = crypt_r("vmmemtop-unknown-user", salt, cd)) || h[0] == '*') {
		free(cd);
		snprintf(err, errsz, "basic_auth_users: this system's crypt() has no bcrypt");
		return -ENOSYS;
	}
	c->dummy_hash = strdup(h);
	free(cd);
	if (!c->dummy_hash) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int web_config_parse(const char *text, size_t len, const char *dir, struct web_config *c, char *err, size_t errsz)
{
	struct parse p = { .err = err, .errsz = errsz };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;

	memset(c, 0, sizeof(*c));
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errsz, "not YAML: %s at line %zu column %zu", parser.problem ? parser.problem : "error",
			 parser.problem_mark.line + 1, parser.problem_mark.column + 1);
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	p.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		bool seen_tls = false, seen_users = false;


		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top && !p.ret;
		     pr++) {
			const char *k = scalar(&p, yaml_document_get_node(&doc, pr->key), "top-level key");
			yaml_node_t *v = yaml_document_get_node(&doc, pr->value);

			if (!k || !v)
				fail(&p, "bad top-level entry");
			/* a second section would parse over the first one's allocations */
			else if (!strcmp(k, "tls_server_config") && seen_tls)
				fail(&p, "tls_server_config appears twice");
			else if (!strcmp(k, "basic_auth_users") && seen_users)
				fail(&p, "basic_auth_users appears twice");
			else if (!strcmp(k, "tls_server_config"))
				seen_tls = true, parse_tls(&p, v, dir, c);
			else if (!strcmp(k, "basic_auth_users"))
				seen_users = true, parse_users(&p, v, c);
			else
				fail(&p, "%s: not supported by vmmemtop (supported: tls_server_config, basic_auth_users)", k);
		}
	} else if (root && !(root->type == YAML_SCALAR_NODE && !root->data.scalar.length)) {
		fail(&p, "expected a mapping with tls_server_config and/or basic_auth_users");
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (p.ret)
		one_line(err);
	return p.ret;
}

static int read_pem(const char *path, const char *what, char **out, char *err, size_t errsz)
{
	size_t len;
	int ret = read_file_alloc(path, out, &len, 1 << 20);

	if (ret) {
		snprintf(err, errsz, "%s %s: %s", what, path, ret == -EFBIG ? "larger than 1 MiB" : strerror(-ret));
		return ret;
	}
	if (strlen(*out) != len) {
		snprintf(err, errsz, "%s %s: not PEM (contains NUL bytes)", what, path);
		return -EINVAL;
	}
	return 0;
}

/* One line naming what is wrong with the key pair or CA, before MHD gets them. */
static int check_tls(const struct web_config *c, char *err, size_t errsz)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t cert = { (unsigned char *)c->cert_pem, strlen(c->cert_pem) };
	gnutls_datum_t key = { (unsigned char *)c->key_pem, strlen(c->key_pem) };
	int ret;

	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	ret = gnutls_certificate_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
	if (ret < 0)
		snprintf(err, errsz, "tls_server_config: cert_file %s with key_file %s: %s", c->cert_file, c->key_file,
			 gnutls_strerror(ret));
	if (ret >= 0 && c->client_ca_pem) {
		gnutls_datum_t ca = { (unsigned char *)c->client_ca_pem, strlen(c->client_ca_pem) };

		ret = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
		if (ret <= 0) {
			snprintf(err, errsz, "tls_server_config: client_ca_file %s: %s", c->client_ca_file,
				 ret ? gnutls_strerror(ret) : "no certificate in it");
			ret = -1;
		}
	}
	gnutls_certificate_free_credentials(cred);
	return ret < 0 ? -EINVAL : 0;
}

int web_config_load(const char *path, struct web_config *c, char *err, size_t errsz)
{
	char *text = NULL, *dir, *slash, sub[384];
	size_t len;
	int ret = read_file_alloc(path, &text, &len, 1 << 20);

	memset(c, 0, sizeof(*c));
	if (ret) {
		snprintf(err, errsz, "--web.config.file %s: %s", path, ret == -EFBIG ? "larger than 1 MiB" : strerror(-ret));
		return ret;
	}
	dir = strdup(path);
	if (!dir) {
		free(text);
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = 0;
	else
		dir[0] = 0;
	ret = web_config_parse(text, len, dir, c, sub, sizeof(sub));
	free(text);
	free(dir);
	if (!ret && c->tls)
		ret = read_pem(c->cert_file, "tls_server_config: cert_file", &c->cert_pem, sub, sizeof(sub));
	if (!ret && c->tls)
		ret = read_pem(c->key_file, "tls_server_config: key_file", &c->key_pem, sub, sizeof(sub));
	if (!ret && c->client_ca_file)
		ret = read_pem(c->client_ca_file, "tls_server_config: client_ca_file", &c->client_ca_pem, sub,
			       sizeof(sub));
	if (!ret && c->tls)
		ret = check_tls(c, sub, sizeof(sub));
	if (!ret)
		ret = make_dummy(c, sub, sizeof(sub));
	if (ret) {
		snprintf(err, errsz, "--web.config.file %s: %s", path, sub);
		one_line(err);
		web_config_free(c);
	}
	return ret;
}

void web_config_free(struct web_config *c)
{
	free(c->cert_file);
	free(c->key_file);
	free(c->client_ca_file);
	free(c->cert_pem);
	if (c->key_pem)
		explicit_bzero(c->key_pem, strlen(c->key_pem));
	free(c->key_pem);
	free(c->client_ca_pem);
	for (size_t i = 0; i < c->nr_users; i++) {
		free(c->users[i].name);
		free(c->users[i].hash);
	}
	free(c->users);
	free(c->dummy_hash);
	memset(c, 0, sizeof(*c));
}

bool web_auth_check(const struct web_config *c, const char *user, const char *password)
{
	const char *want = c->dummy_hash;
	struct crypt_data *cd;
	bool known = false, ok = false;
	const char *got;

	for (size_t i = 0; i < c->nr_users; i++)
		if (!strcmp(c->users[i].name, user)) {
			want = c->users[i].hash;
			known = true;
		}
	if (!want)
		return false;
	cd = calloc(1, sizeof(*cd));	/* ~32 KiB: not on a worker's stack */
	if (!cd)
		return false;
	got = crypt_r(password, want, cd);
	if (got && strlen(got) == strlen(want)) {
		unsigned char diff = 0;

		for (size_t i = 0; want[i]; i++)	/* constant time */
			diff |= (unsigned char)(got[i] ^ want[i]);
		ok = diff == 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok && known;
}
