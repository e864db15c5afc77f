/* SPDX-License-Identifier: MIT */
/* --web.config.file: TLS and basic authentication for the exporter, in the Prometheus
 * exporter-toolkit format (tls_server_config, basic_auth_users), so one file serves
 * node_exporter and vmmemtop alike. */
#ifndef VMMEM_WEB_CONFIG_H
#define VMMEM_WEB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum web_client_auth {
	WEB_CLIENT_NONE,		/* NoClientCert */
	WEB_CLIENT_VERIFY_IF_GIVEN,	/* VerifyClientCertIfGiven */
	WEB_CLIENT_REQUIRE_VERIFY,	/* RequireAndVerifyClientCert */
};

struct web_user {
	char *name;
	char *hash;			/* bcrypt: $2a$, $2b$ or $2y$ */
};

struct web_config {
	bool tls;
	char *cert_file, *key_file, *client_ca_file;	/* resolved against the file's directory */
	char *cert_pem, *key_pem, *client_ca_pem;	/* their contents (web_config_load only) */
	enum web_client_auth client_auth;
	const char *priorities;		/* GnuTLS priority string: TLS 1.2 or later */
	struct web_user *users;
	size_t nr_users;
	char *dummy_hash;		/* checked for unknown users, so they take as long */
};

/* Parse the YAML text of a web config (files named in it are not read; relative names are
 * taken from dir). Returns 0, or -EINVAL with one line in err; *c is filled either way and
 * must be freed with web_config_free(). */
int web_config_parse(const char *text, size_t len, const char *dir, struct web_config *c, char *err, size_t errsz);

/* Read and parse path, then read and check the certificate, key and client CA it names.
 * Returns 0, or a negative errno with one line in err (nothing to free then). */
int web_config_load(const char *path, struct web_config *c, char *err, size_t errsz);
void web_config_free(struct web_config *c);

/* Whether user:password matches basic_auth_users. Takes a bcrypt's time for unknown users
 * too. */
bool web_auth_check(const struct web_config *c, const char *user, const char *password);

#endif
