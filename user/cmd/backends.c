// SPDX-License-Identifier: MIT
/* vmmemtop's sources, selectable by --backend: the only place that names them all, so the
 * core links without the BPF skeleton (unit tests choose their own table). Add a new source
 * here. "auto" tries bpf, then kmod (core_open()). */
#include <stddef.h>
#include "source.h"

const struct source_factory *const source_factories[] = {
	&source_bpf_factory,
	&source_kmod_factory,
	&source_replay_factory,
	&source_synthetic_factory,
	NULL,
};
