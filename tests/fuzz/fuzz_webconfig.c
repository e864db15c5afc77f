// SPDX-License-Identifier: MIT
/* libFuzzer target: the --web.config.file YAML (user/view/web_config.c). Any input gives 0 or
 * -EINVAL with exactly one line of error, never a crash or leak; a config that parses has a
 * consistent shape (TLS with both files, users with bcrypt-shaped hashes). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "web_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct web_config c;
	char err[384] = "";
	int r = web_config_parse((const char *)data, size, "/etc/vmmem", &c, err, sizeof(err));

	if (r && (!err[0] || strchr(err, '\n')))
		__builtin_trap();
	if (!r && c.tls && (!c.cert_file || !c.key_file || !c.priorities))
		__builtin_trap();
	for (size_t i = 0; !r && i < c.nr_users; i++)
		if (strlen(c.users[i].hash) != 60 || !c.users[i].name[0])
			__builtin_trap();
	web_config_free(&c);
	return 0;
}
