// SPDX-License-Identifier: MIT
/* libFuzzer target: `advise --from FILE`, i.e. the snapshot JSON loader (user/view/snapshot_load.c)
 * and the advisor's rules run on whatever it accepts. The loader must accept or refuse with
 * one line naming the problem; the advisor must not crash on anything the loader let in
 * (it divides by host memory, multiplies counters, formats names). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "advise.h"
#include "snapshot_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct advice adv[ADVISE_MAX];
	struct snapshot s;
	char err[512] = "";
	size_t sum = 0;
	int n;

	if (snapshot_load((const char *)data, size, &s, err, sizeof(err))) {
		if (!err[0] || strchr(err, '\n'))
			__builtin_trap();	/* one line naming the problem, never none */
		return 0;
	}
	n = advise_evaluate(&s, NULL, adv, ADVISE_MAX);
	if (n < 1 || n > ADVISE_MAX)
		__builtin_trap();
	for (int i = 0; i < n; i++)
		sum += strlen(adv[i].id) + strlen(adv[i].evidence) + strlen(adv[i].command);
	snapshot_free(&s);
	return sum == 1 ? 0 : 0;
}
