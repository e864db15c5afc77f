// SPDX-License-Identifier: MIT
/* The exporter's HTTP inputs: the --web.config.file parser (user/view/web_config.c), the
 * Accept-Encoding check and the gzip encoder (user/view/export_http.c). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include <zlib.h>
#include "export.h"
#include "web_config.h"

#define HASH "$2y$10$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze"

static int parse(const char *text, struct web_config *c, char *err)
{
	return web_config_parse(text, strlen(text), "/etc/vmmem", c, err, 384);
}

static void test_good(void **state)
{
	struct web_config c;
	char err[384] = "";

	(void)state;
	assert_int_equal(parse("tls_server_config:\n  cert_file: s.crt\n  key_file: /k/s.key\n"
			       "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
			       "  min_version: TLS13\nbasic_auth_users:\n  alice: " HASH "\n  'bob': \"" HASH "\"\n",
			       &c, err), 0);
	assert_true(c.tls);
	assert_string_equal(c.cert_file, "/etc/vmmem/s.crt");	/* relative to the file's directory */
	assert_string_equal(c.key_file, "/k/s.key");
	assert_string_equal(c.client_ca_file, "/etc/vmmem/ca.crt");
	assert_int_equal(c.client_auth, WEB_CLIENT_REQUIRE_VERIFY);
	assert_non_null(strstr(c.priorities, "-VERS-ALL:+VERS-TLS1.3"));
	assert_null(strstr(c.priorities, "TLS1.2"));
	assert_int_equal(c.nr_users, 2);
	assert_string_equal(c.users[1].name, "bob");
	assert_string_equal(c.users[1].hash, HASH);
	web_config_free(&c);

	/* an empty file, and empty sections: plain HTTP, no users (as exporter-toolkit) */
	assert_int_equal(parse("", &c, err), 0);
	assert_false(c.tls);
	web_config_free(&c);
	assert_int_equal(parse("tls_server_config:\nbasic_auth_users:\n", &c, err), 0);
	assert_false(c.tls);
	assert_int_equal(c.nr_users, 0);
	web_config_free(&c);
}

static void test_bad(void **state)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "tls_server_config: [a\n", "not YAML" },
		{ "- a\n- b\n", "expected a mapping" },
		{ "http_server_config:\n  http2: false\n", "http_server_config: not supported" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [x]\n", "cipher_suites: not supported" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS11\n", "TLS11 is refused" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: SSL3\n", "not TLS12 or TLS13" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n",
		  "min_version is above" },
		{ "tls_server_config:\n  key_file: b\n", "key_file without cert_file" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n",
		  "needs client_ca_file" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n", "does not verify clients" },
		{ "tls_server_config:\n  cert_file: [a]\n  key_file: b\n", "expected a string" },
		{ "basic_auth_users:\n  alice: plain\n", "not a bcrypt hash" },
		{ "basic_auth_users:\n  alice: $2y$99$mDwo.lAisC94iLAyP81MCesa29IzH37oigHC/42V2pdJlUprsJPze\n",
		  "not a bcrypt hash" },
		{ "basic_auth_users:\n  alice: " HASH "\n  alice: " HASH "\n", "appears twice" },
		{ "basic_auth_users:\n  'a:b': " HASH "\n", "not a user name" },
		{ "basic_auth_users: [alice]\n", "expected a mapping" },
		/* found by fuzz_webconfig: a second section parsed over the first one's user table */
		{ "basic_auth_users:\n  bob: " HASH "\n  carol: " HASH "\nbasic_auth_users:\n  alice: " HASH "\n",
		  "basic_auth_users appears twice" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\ntls_server_config:\n  cert_file: c\n",
		  "tls_server_config appears twice" },
		/* found by fuzz_webconfig: YAML turns the CRs into line breaks inside the key */
		{ "{tls_server_config: {cert_f\r\r\r\r\rile, afele:ob},0r}\n", "cert_f????ile: not supported" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct web_config c;
		char err[384] = "";

		if (parse(cases[i].text, &c, err) != -EINVAL || !strstr(err, cases[i].want) || strchr(err, '\n'))
			fail_msg("case %zu: got '%s', expected -EINVAL and '%s'", i, err, cases[i].want);
		web_config_free(&c);
	}
}

static void test_accepts_gzip(void **state)
{
	(void)state;
	assert_true(export_accepts_gzip("gzip"));
	assert_true(export_accepts_gzip("deflate, gzip"));
	assert_true(export_accepts_gzip(" GZIP ;q=0.5"));
	assert_true(export_accepts_gzip("x-gzip"));
	assert_true(export_accepts_gzip("gzip;q=0.001"));
	assert_false(export_accepts_gzip(NULL));
	assert_false(export_accepts_gzip(""));
	assert_false(export_accepts_gzip("identity"));
	assert_false(export_accepts_gzip("*"));
	assert_false(export_accepts_gzip("gzip;q=0"));
	assert_false(export_accepts_gzip("gzip; q=0.000"));
	assert_false(export_accepts_gzip("gzipx, xgzip"));
	assert_true(export_accepts_gzip("gzip;q=0, x-gzip"));
}

static void test_gzip_roundtrip(void **state)
{
	size_t n = 3 << 20, zlen;
	char *in = malloc(n), *back = malloc(n);
	z_stream z = { 0 };
	void *gz;

	(void)state;
	for (size_t i = 0; i < n; i++)
		in[i] = "vmmem_tdp_faults_total{vm=\"x\"} 12345\n"[i % 38];
	assert_int_equal(export_gzip(in, n, &gz, &zlen), 0);
	assert_true(zlen < n / 8);
	assert_int_equal(((unsigned char *)gz)[0], 0x1f);	/* gzip magic, RFC 1952 */
	assert_int_equal(((unsigned char *)gz)[1], 0x8b);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = gz;
	z.avail_in = zlen;
	z.next_out = (Bytef *)back;
	z.avail_out = n;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, n);
	inflateEnd(&z);
	assert_memory_equal(in, back, n);
	free(gz);
	assert_int_equal(export_gzip("", 0, &gz, &zlen), 0);	/* an empty body is a valid stream */
	free(gz);
	free(in);
	free(back);
}

UNIT_TESTS(
	cmocka_unit_test(test_good),
	cmocka_unit_test(test_bad),
	cmocka_unit_test(test_accepts_gzip),
	cmocka_unit_test(test_gzip_roundtrip))
