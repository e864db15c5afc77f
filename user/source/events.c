// SPDX-License-Identifier: MIT
/* Event type names from the ABI's VMMEM_EVENTS table, and the --events list parser. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "events.h"

_Static_assert(VMMEM_NR_EV_TYPES <= VMMEM_EV_LOST_TYPES, "struct vmmem_ev_lost has no room for every type");
_Static_assert(VMMEM_NR_EV_TYPES <= 64, "a stream mask has 64 bits");

#define EV_NAME(name, nr, help) [nr] = #name,
#define EV_HELP(name, nr, help) [nr] = help,
const char *const event_names[VMMEM_NR_EV_TYPES] = { VMMEM_EVENTS(EV_NAME) };
const char *const event_help[VMMEM_NR_EV_TYPES] = { VMMEM_EVENTS(EV_HELP) };

uint64_t event_all_mask(void)
{
	uint64_t m = 0;

	for (int i = 0; i < VMMEM_NR_EV_TYPES; i++)
		if (event_names[i])
			m |= VMMEM_EV_BIT(i);
	return m;
}

int event_index(const char *name)
{
	for (int i = 0; i < VMMEM_NR_EV_TYPES; i++)
		if (event_names[i] && !strcmp(event_names[i], name))
			return i;
	return -1;
}

int event_mask_parse(const char *list, uint64_t *mask, char *err, size_t errsz)
{
	char word[64], valid[512];
	const char *p = list;
	uint64_t m = 0;

	if (!list || !*list) {
		snprintf(err, errsz, "empty event list");
		return -EINVAL;
	}
	while (*p) {
		size_t n = strcspn(p, ",");
		int idx;

		if (n == 0 || n >= sizeof(word)) {
			snprintf(err, errsz, "bad event list '%s': %s", list, n ? "a name is too long" : "empty name");
			return -EINVAL;
		}
		memcpy(word, p, n);
		word[n] = 0;
		p += n + (p[n] == ',');
		if (!strcmp(word, "all")) {
			m |= event_all_mask();
		} else if (!strcmp(word, "default")) {
			m |= VMMEM_EV_RARE_MASK;
		} else if (!strcmp(word, "none")) {
			continue;
		} else if ((idx = event_index(word)) >= 0) {
			m |= VMMEM_EV_BIT(idx);
		} else {
			event_mask_format(event_all_mask(), valid, sizeof(valid));
			snprintf(err, errsz, "unknown event type '%s' (known: %s; or all, default, none)", word, valid);
			return -EINVAL;
		}
	}
	*mask = m;
	return 0;
}

void event_mask_format(uint64_t mask, char *buf, size_t sz)
{
	size_t off = 0;

	if (!sz)
		return;
	buf[0] = 0;
	for (int i = 0; i < VMMEM_NR_EV_TYPES && off < sz; i++)
		if (event_names[i] && (mask & VMMEM_EV_BIT(i)))
			off += snprintf(buf + off, sz - off, "%s%s", off ? "," : "", event_names[i]);
	if (!off)
		snprintf(buf, sz, "none");
}
