# SPDX-License-Identifier: MIT
# What every nested-KVM guest's /init shares (sourced as /lib/kvm-guest-lib.sh: build_initramfs
# puts it in every initramfs): the mounts and modules, the NOKVM end, and a private tracefs
# instance $T recording tgids, the oracle counted by tgid.

# guest_boot: proc, sysfs, devtmpfs, tracefs, a tmpfs /tmp (mode 1777, tmpfs's default: the
# unprivileged users of the rigs write there), then the initramfs's modules in order
guest_boot() {
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	mount -t devtmpfs dev /dev
	mount -t tracefs nodev /sys/kernel/tracing
	mkdir -p /tmp && mount -t tmpfs -o mode=1777 tmp /tmp
	for m in $(cat /etc/modules.order); do insmod "$m" || echo "insmod $m failed"; done
}

# need_kvm: without /dev/kvm (QEMU gave no SVM) the rig has nothing to run: say so and end
need_kvm() {
	[ -c /dev/kvm ] || { echo "NOKVM"; echo ALLDONE; poweroff -f; }
}

# runners_create_early: on 5.10 vmmem's BPF counts a VMM from the /proc scan that finds it (no
# in-kernel claim there, see bpf/kvm.bpf.c fmt_field): the runners create their VM before they
# are started (tests/tools/kvm_guest.h kg_start)
runners_create_early() {
	case $(uname -r) in 5.10.*) export RUNNER_CREATE_EARLY=1 ;; esac
}

# oracle_instance [KB]: T := a private tracefs instance (KB per CPU) that records tgids
oracle_instance() {
	T=/sys/kernel/tracing/instances/oracle
	mkdir $T
	[ -n "${1:-}" ] && echo "$1" > $T/buffer_size_kb
	echo 1 > $T/options/record-tgid
}

# oracle_start EVENTS: an empty trace of EVENTS from now on
oracle_start() {
	echo 0 > $T/tracing_on
	echo > $T/trace
	echo "$1" > $T/set_event
	echo 1 > $T/tracing_on
}

# count_oracle EVENT TGID [ERE]: lines of EVENT recorded for TGID (any of its threads; and
# matching ERE) in $ORACLE (default: the live trace)
count_oracle() {
	awk -v ev="$1:" -v t="$2" -v re="${3:-.}" 'index($0, ev) && $0 ~ re {
		if (match($0, /\( *[0-9]+\)/)) { g = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", g); if (g == t) n++ } }
		END { print n + 0 }' "${ORACLE:-$T/trace}"
}

# overruns: events the instance's ring lost (a count over them is short by as many)
overruns() {
	lost=0
	for f in $T/per_cpu/cpu*/stats; do lost=$((lost + $(awk '/^overrun:/ { print $2 }' $f))); done
	echo $lost
}
