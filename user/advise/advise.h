/* SPDX-License-Identifier: MIT */
/* The advisor: KSM, THP, balloon and swap recommendations from one snapshot, each with its
 * evidence, the exact command and the risk. Rules are documented in README.md. */
#ifndef VMMEM_ADVISE_H
#define VMMEM_ADVISE_H

#include <stdbool.h>
#include "snapshot.h"

enum advice_severity { ADVICE_INFO, ADVICE_WARN, ADVICE_CRIT };

struct advice {
	char id[24];			/* fixed vocabulary, see advice_ids[] */
	char target[VMM_NAME_MAX + 8];	/* "host" or "vm:<name>" */
	enum advice_severity severity;
	char evidence[512];
	char action[256];
	char command[1024];
	char risk[320];
};

#define ADVISE_MAX		64
#define ADVISE_ENTER_STREAK	3	/* evaluations a condition must hold to appear */
#define ADVISE_EXIT_STREAK	3	/* evaluations below the relaxed threshold to disappear */

/* Hysteresis across evaluations of a continuous view. */
struct advise_state {
	int n;
	struct {
		char key[sizeof(((struct advice *)0)->id) + sizeof(((struct advice *)0)->target)];
		int strong_streak, weak_misses;
		bool active, seen;
		struct advice last;	/* shown while the condition fades (exit streak) */
	} conds[ADVISE_MAX * 2];
};

extern const char *const advice_ids[];

/* Evaluate the rules. st == NULL evaluates once without hysteresis (a single snapshot).
 * Returns the number of recommendations written to out (at least one: "healthy"). */
int advise_evaluate(const struct snapshot *s, struct advise_state *st, struct advice *out, int max);

const char *advice_severity_name(enum advice_severity s);

/* Evaluate with hysteresis and record the advice in force in s->advice (for exporters).
 * If full is not NULL, the complete recommendations are copied there too (*nr_full set). */
void advise_annotate(struct snapshot *s, struct advise_state *st, struct advice *full, int *nr_full);

#endif
