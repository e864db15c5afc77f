# SPDX-License-Identifier: MIT
# Starts and drives QEMU (TCG) guests for the rigs (sourced; needs initramfs.sh).
#   vm_start ID INITRD MEM_MB [qemu args...]   boot; sets VM_PID[ID], VM_LOG[ID], VM_QMP[ID]
#   vm_wait ID PATTERN TIMEOUT_S              wait for PATTERN on the guest's serial console
#   qmp ID JSON                               send one QMP command, print its reply line
#   vm_stop ID                                stop it (vm_stop_all runs at exit if trapped)
#   need_vm_rig                               SKIP (exit 77) unless root, QEMU and the guest kernel are here
# The guest boots the kernel of $GUEST_VER (kernels.sh: guest_use VER before vm_start).
# VM_APPEND adds kernel parameters (debugging: VM_APPEND="loglevel=7 softlockup_all_cpu_backtrace=1").
declare -A VM_PID VM_LOG VM_QMP
VM_DIR=${VM_DIR:-$(mktemp -d /tmp/vmmem-vm.XXXXXX)}

vm_start() {
	local id=$1 initrd=$2 mem=$3; shift 3
	VM_LOG[$id]=$VM_DIR/$id.serial
	VM_QMP[$id]=$VM_DIR/$id.qmp
	: > "${VM_LOG[$id]}"
	# One host thread for all vCPUs: with multi-threaded TCG (QEMU 7.2) a guest hangs now and
	# then in text_poke_bp() (ftrace, static calls, BPF and kprobe attach all patch kernel text):
	# one vCPU keeps executing the stale int3 of a site another vCPU already rewrote, with
	# interrupts off, and the patching CPU waits forever for its IPI. Seen with and without
	# vmmem.ko loaded; never with thread=single, which costs this rig no time.
	qemu-system-x86_64 -accel tcg,thread=single -cpu max -m "$mem" -kernel "$(guest_kernel)" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet ${VM_APPEND:-}" -display none -monitor none -no-reboot \
		-serial "file:${VM_LOG[$id]}" -qmp "unix:${VM_QMP[$id]},server=on,wait=off" "$@" \
		> "$VM_DIR/$id.qemu.log" 2>&1 &
	VM_PID[$id]=$!
}

vm_wait() {
	local id=$1 pattern=$2 end=$(( $(date +%s) + $3 ))
	until grep -q "$pattern" "${VM_LOG[$id]}" 2>/dev/null; do
		if ! kill -0 "${VM_PID[$id]}" 2>/dev/null; then
			echo "vm $id: qemu exited; console tail:" >&2; tail -5 "${VM_LOG[$id]}" >&2
			cat "$VM_DIR/$id.qemu.log" >&2; return 1
		fi
		[ "$(date +%s)" -ge "$end" ] && { echo "vm $id: no '$pattern' within $3 s" >&2; return 1; }
		sleep 0.2
	done
}

qmp() {
	local id=$1 cmd=$2
	printf '{"execute":"qmp_capabilities"}\n%s\n' "$cmd" |
		socat -t 2 - "UNIX-CONNECT:${VM_QMP[$id]}" | grep -E '"(return|error)"' | tail -n 1
}

vm_stop() {
	local id=$1
	[ -n "${VM_PID[$id]:-}" ] || return 0
	stop_pid "${VM_PID[$id]}"	# tests/host/lib.sh: SIGKILL if QEMU hangs on SIGTERM
	unset "VM_PID[$id]"
}

vm_stop_all() {
	local id
	for id in "${!VM_PID[@]}"; do vm_stop "$id"; done
	[ -n "${KEEP_VM_DIR:-}" ] || rm -rf "$VM_DIR"
}

need_vm_rig() {
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
	command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86 not installed"; exit 77; }
	kernel_fetch || { echo "SKIP: no guest kernel $GUEST_VER (see above)"; exit 77; }
}
