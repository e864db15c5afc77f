/* SPDX-License-Identifier: MIT */
/* Event type names, generated from the ABI table (VMMEM_EVENTS in kmod/uapi/vmmem.h), and the
 * --events list parser. One name per concept: `--events tdp_fault,exit,balloon`. */
#ifndef VMMEM_EVENTS_H
#define VMMEM_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include "vmmem.h"

/* By event number; NULL where no type has that number. */
extern const char *const event_names[VMMEM_NR_EV_TYPES];
extern const char *const event_help[VMMEM_NR_EV_TYPES];

/* Every type the ABI defines. */
uint64_t event_all_mask(void);

/* Number of the type called name, or -1. */
int event_index(const char *name);

/* Parse "tdp_fault,exit,balloon" (also "all", "default" = the rare types, "none") into a mask
 * of VMMEM_EV_BIT(). Returns 0, or -EINVAL with one line naming the bad word in err. */
int event_mask_parse(const char *list, uint64_t *mask, char *err, size_t errsz);

/* "tdp_fault,exit" for a mask ("none" for 0). */
void event_mask_format(uint64_t mask, char *buf, size_t sz);

#endif
