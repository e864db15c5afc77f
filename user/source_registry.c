// SPDX-License-Identifier: MIT
/* Extra sources selectable by --backend prefix (see struct source_factory in source.h).
 * Add an entry here when a new file-backed or synthetic source is written. */
#include <stddef.h>
#include "source.h"

extern const struct source_factory source_replay_factory;	/* source_replay.c */
extern const struct source_factory source_synthetic_factory;	/* source_synthetic.c */

const struct source_factory *const source_factories[] = {
	&source_replay_factory,
	&source_synthetic_factory,
	NULL,
};
