# SPDX-License-Identifier: MIT
# bpf_hooks PID [TRACEFS]: the hooks process PID has BPF programs attached to, one per line,
# as tests/tools/bpf_hold.c takes them (sourced by the benches, on the host under bash and in
# the nested guests under busybox sh), read from its links' fdinfo:
#   raw:PROG_ID                tp_btf, raw_tp, fentry and fexit links: the program names its
#                              hook, and BPF_RAW_TRACEPOINT_OPEN attaches it again
#                              (kernel/bpf/syscall.c bpf_raw_tp_link_attach -> tracing ones go
#                              to bpf_tracing_prog_attach)
#   tp:PROG_ID:CATEGORY/NAME   classic tracepoints, attached through a perf event. The link's
#                              fdinfo names the tracepoint only from 6.17 (tp_name); before,
#                              `bpftool perf show` names it from the process's perf event fd.
# Iterator links are no hooks and are left out; any other link type is an error (1).
bpf_hooks() {
	local f type prog tp dir tracefs=${2:-/sys/kernel/tracing}
	for f in /proc/$1/fdinfo/*; do
		# (an fd closed since the glob: skipped)
		type=$(awk '/^link_type:/ { print $2 }' "$f" 2>/dev/null)
		prog=$(awk '/^prog_id:/ { print $2 }' "$f" 2>/dev/null)
		case $type in
		"" | iter) ;;
		raw_tracepoint | tracing) echo "raw:$prog" ;;
		perf)	tp=$(awk '/^tp_name:/ { print $2 }' "$f" 2>/dev/null)
			[ -n "$tp" ] || tp=$(bpftool perf show 2>/dev/null |
				awk -v p="$1" -v id="$prog" '$2 == p && $6 == id && $7 == "tracepoint" { print $8; exit }')
			dir=$(ls -d "$tracefs"/events/*/"$tp" 2>/dev/null | head -n 1)
			[ -n "$tp" ] && [ -n "$dir" ] || { echo "bpf_hooks: no tracepoint found for program $prog of process $1 ($f)" >&2; return 1; }
			echo "tp:$prog:${dir#"$tracefs"/events/}" ;;
		*)	echo "bpf_hooks: link type $type of process $1 ($f) is not one bpf_hold takes" >&2; return 1 ;;
		esac
	done
}
