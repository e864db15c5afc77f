// SPDX-License-Identifier: MIT
/* Finding a source by its --backend name in the program's table (source_factories[]). */
#include <stddef.h>
#include <string.h>
#include "source.h"

const struct source_factory *source_factory_find(const char *backend)
{
	for (int i = 0; source_factories[i]; i++) {
		const char *prefix = source_factories[i]->prefix;
		size_t n = strlen(prefix);

		/* "replay:" takes an argument after it; a plain name must match whole */
		if (n && prefix[n - 1] == ':' ? !strncmp(backend, prefix, n) : !strcmp(backend, prefix))
			return source_factories[i];
	}
	return NULL;
}
