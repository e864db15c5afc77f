# SPDX-License-Identifier: MIT
# Shared helpers for tests/host/*.sh (sourced). Each test names its oracle and prints both
# numbers on failure; SKIP exits 77.
TOPDIR=${TOPDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VMMEMTOP=${VMMEMTOP:-$TOPDIR/build/vmmemtop}
TOOLS=${TOOLS:-$TOPDIR/build/tools}
TRACEFS=/sys/kernel/tracing

skip() { echo "SKIP: $*"; exit 77; }
# fail MSG: one FAIL line, then the last FAIL_LOG_LINES (default 20) lines of every non-empty
# file FAIL_LOGS names (a glob, e.g. "$TMP/*.log": the test's own processes' output)
fail() {
	local f
	echo "FAIL: $*"
	# shellcheck disable=SC2086
	for f in ${FAIL_LOGS:-}; do [ -s "$f" ] && { echo "--- $f"; tail -n "${FAIL_LOG_LINES:-20}" "$f"; }; done
	exit 1
}

need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root (BPF and tracefs)"; }
# need_bins BIN...: skip unless every BIN is installed (tests/deps.sh installs them all)
need_bins() { local b; for b; do command -v "$b" > /dev/null || skip "$b not installed (tests/deps.sh installs it)"; done; }
# need_built FILE...: fail unless every FILE is built (make)
need_built() { local f; for f; do [ -x "$f" ] || fail "$f not built (make)"; done; }

need_tracefs() {
	mountpoint -q $TRACEFS || mount -t tracefs nodev $TRACEFS 2>/dev/null ||
		skip "tracefs is not mounted and cannot be mounted"
}

# _alive PID: PID exists and is not a zombie
_alive() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# _started PID: its start time (field 22 of /proc/PID/stat; the comm before it may hold spaces)
_started() { sed -E 's/^.*\) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }' | grep .; }

# stop_pid PID [SIGNAL]: SIGNAL (default TERM), then SIGKILL if PID is still there after
# STOP_GRACE seconds (default 3), then reap it. A recorder left running by a test that only
# sent SIGINT at exit once kept its syscall tracepoints attached for hours, taxing every
# benchmark on the host: no process a test started may outlive it.
stop_pid() {
	local pid=$1 sig=${2:-TERM} i born
	[ -n "$pid" ] || return 0
	born=$(_started "$pid") || { wait "$pid" 2>/dev/null; return 0; }
	kill -"$sig" "$pid" 2>/dev/null
	for ((i = 0; i < ${STOP_GRACE:-3} * 10; i++)); do
		_alive "$pid" || break
		sleep 0.1
	done
	# the same process still (a pid reused meanwhile has another start time)
	_alive "$pid" && [ "$(_started "$pid")" = "$born" ] && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# Cleanup actions run in reverse order at exit. Then every background job of the test still
# there gets SIGTERM, the same grace as stop_pid gives, and SIGKILL: a cleanup that only sent
# a signal (or forgot a process) cannot leave one behind.
_cleanups=()
at_exit() { _cleanups+=("$*"); }
_run_cleanups() {
	local i p left
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" 2>/dev/null; done
	for p in $(jobs -p); do _alive "$p" && kill -TERM "$p" 2>/dev/null; done
	for ((i = 0; i < ${STOP_GRACE:-3} * 10; i++)); do
		left=
		for p in $(jobs -p); do _alive "$p" && left="$left $p"; done
		[ -n "$left" ] || break
		sleep 0.1
	done
	for p in $left; do
		echo "cleanup: pid $p ($(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null | cut -c1-80)) still running: SIGKILL" >&2
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	return 0
}
trap _run_cleanups EXIT

# tmpdir: a private directory removed at exit
make_tmp() {
	TMP=$(mktemp -d /tmp/vmmem-test.XXXXXX)
	at_exit "rm -rf '$TMP'"
}

# trace_instance NAME: a private tracefs buffer (the oracle), removed at exit
trace_instance() {
	local dir=$TRACEFS/instances/$1
	rmdir "$dir" 2>/dev/null
	mkdir "$dir" || fail "cannot create trace instance $dir"
	at_exit "echo 0 > '$dir/tracing_on'; echo > '$dir/set_event'; rmdir '$dir'"
	echo "$dir"
}

# trace_overruns DIR: total lost events in the instance (must be 0 for an exact oracle)
trace_overruns() {
	local total=0 n
	for f in "$1"/per_cpu/cpu*/stats; do
		n=$(awk '/^overrun:/ { print $2 }' "$f")
		total=$((total + ${n:-0}))
	done
	echo $total
}

# wait_vmmem_loaded [PID]: until the vmmemtop started last (or PID) has attached its programs:
# its own attachment fds (perf_event links of tracepoints, bpf-links of the others), not
# programs by name, since other vmmemtops may run on this host at the same time
wait_vmmem_loaded() {
	local pid=${1:-$!} i n last=-1
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 1
		n=$(ls -l /proc/$pid/fd 2>/dev/null | grep -c 'perf_event\|bpf-link\|bpf_link')
		# attached one by one after the load: done when the count stops growing
		[ "$n" -ge 3 ] && [ "$n" = "$last" ] && { sleep 0.3; return 0; }
		last=$n
		sleep 0.2
	done
	return 1
}

# jq_vm FILE PID EXPR: EXPR of the VM with that pid in a snapshot JSON
jq_vm() { jq -r --argjson p "$2" ".vms[] | select(.pid == \$p) | $3" "$1"; }

# wait_guest_ram ERRFILE PID [HOW]: until vmmemtop -v said it learned PID's guest RAM (HOW: a
# substring of where from, e.g. "KVM memslots" or "QEMU RAM blocks"); its balloon counters
# count from then on
wait_guest_ram() {
	local i
	for i in $(seq 1 150); do
		grep -q "guest RAM of pid $2: ${3:-}.*range(s)" "$1" && ! grep "guest RAM of pid $2: " "$1" | tail -1 | grep -q unknown &&
			return 0
		sleep 0.1
	done
	return 1
}

# host_lock: hold /tmp/vmmem-host.lock (KSM, swap, sysctls: host-wide state) for the rest of
# the test. When an ancestor already holds it (`flock /tmp/vmmem-host.lock make test`), taking
# it again through another open file would wait for ourselves forever: then it is ours already.
host_lock() {
	local lock=/tmp/vmmem-host.lock ino holder p=$$
	ino=$(stat -c %i "$lock" 2>/dev/null)
	holder=${ino:+$(awk -v i=":$ino " 'index($0, i) && $0 !~ /->/ { print $5 }' /proc/locks | head -n 1)}
	while [ -n "$holder" ] && [ "$p" -gt 1 ]; do
		[ "$p" = "$holder" ] && return 0
		p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null) || break
	done
	exec 9> "$lock"
	flock 9
}
