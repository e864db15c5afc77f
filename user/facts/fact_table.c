// SPDX-License-Identifier: MIT
/* The fact tables of fact_table.h, instantiated. */
#include "fact_table.h"

const char *const fact_no_modes[] = { NULL };
const char *const fact_thp_enabled_modes[] = { "always", "madvise", "never", NULL };
const char *const fact_thp_defrag_modes[] = { "always", "defer", "defer+madvise", "madvise", "never", NULL };

const char *const fact_group_json[FG_NR] = {
	[FG_TOP] = "", [FG_KSM] = "ksm", [FG_THP] = "thp", [FG_KSM_STAT] = "ksm_stat",
	[FG_CGROUP] = "cgroup", [FG_QMP] = "qmp",
};

#define SIZE(st, field) sizeof(((struct st *)0)->field)
#define U(st, nm, field, un, kd, fl, grp, js, pr, mx, hl) \
	{ .name = #nm, .type = FACT_U64, .off = offsetof(struct st, field), .size = SIZE(st, field), \
	  .unit = un, .kind = kd, .flags = fl, .group = grp, .json = js, .prom = pr, .max = mx, .help = hl },
#define S(st, nm, field, fl, grp, js, pr, md, hl) \
	{ .name = #nm, .type = FACT_STR, .off = offsetof(struct st, field), .size = SIZE(st, field), \
	  .flags = fl, .group = grp, .json = js, .prom = pr, .modes = md, .help = hl },
#define F(st, nm, field, fl) \
	{ .name = #nm, .type = FACT_FLAG, .off = offsetof(struct st, field), .size = SIZE(st, field), .flags = fl },

#define HU(...) U(host_state, __VA_ARGS__)
#define HS(...) S(host_state, __VA_ARGS__)
#define HF(...) F(host_state, __VA_ARGS__)
const struct fact host_facts[HOST_NR_FACTS] = { HOST_FACTS(HU, HS, HF) };

#define VU(...) U(vmm_info, __VA_ARGS__)
#define VS(...) S(vmm_info, __VA_ARGS__)
#define VF(...) F(vmm_info, __VA_ARGS__)
/* the detail shows the sizes: the balloon's and the guest's memory */
#define VQ(nm, key, un, kd, hl) \
	VU(qmp_##nm, qmp.v[VMM_QMP_##nm], un, kd == VMM_QMP_COUNTER ? FK_COUNTER : FK_GAUGE, \
	   kd == VMM_QMP_GAUGE && un == FU_BYTES ? FF_SHOW : 0, FG_QMP, #nm, "vmmem_" #nm, FACT_MAX_COUNT, hl)
const struct fact vm_facts[VM_NR_FACTS] = { VM_FACTS(VU, VS, VF, VQ) };
