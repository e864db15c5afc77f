// SPDX-License-Identifier: MIT
/* The sources the unit tests link: those that need no BPF skeleton, so `make unit` runs
 * without clang, bpftool or kernel BTF (vmmemtop's own table is user/cmd/backends.c). */
#include <stddef.h>
#include "source.h"

const struct source_factory *const source_factories[] = {
	&source_kmod_factory,
	&source_replay_factory,
	&source_synthetic_factory,
	NULL,
};
