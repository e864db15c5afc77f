# SPDX-License-Identifier: MIT
# The common part of the rigs that run a balloon guest "g" (guest/balloon-init.sh) under
# `vmmemtop export` and a real Prometheus (test_identity.sh, test_export_prometheus.sh).
# Source it from a test in tests/vm; it sources the libraries those rigs use.
#   exporter_rig_init BIN...  skip unless the VM rig and every BIN are here; a tmp dir; guests
#                             and Prometheus stopped at exit; fail MSG prints the logs, exits 1
#   balloon_initrd            build the balloon guest's initramfs into $INITRD
#   exporter_start            `vmmemtop export` on a free port: $EPORT, $EXP (killed at exit)
#   metrics                   the exposition; series NAME: NAME's value for {$LABELS}
_rig_dir=$(dirname "${BASH_SOURCE[0]}")
. "$_rig_dir/../../host/lib.sh"
. "$_rig_dir/initramfs.sh"
. "$_rig_dir/qemu.sh"
. "$_rig_dir/balloon.sh"
. "$TOPDIR/tests/host/prometheus.sh"

exporter_rig_init() {
	need_vm_rig
	for bin in "$@"; do
		command -v "$bin" >/dev/null || skip "$bin not installed (tests/deps.sh installs it)"
	done
	make_tmp
	at_exit vm_stop_all
	at_exit prom_stop
}

fail() {
	echo "FAIL: $*"
	for f in "$TMP"/*.log "${VM_LOG[g]:-/dev/null}"; do [ -s "$f" ] && { echo "--- $f"; tail -8 "$f"; }; done
	exit 1
}

balloon_initrd() {
	INITRD=$TOPDIR/build/vm/balloon.cpio.gz
	build_initramfs "$INITRD" "$_rig_dir/../guest/balloon-init.sh" "virtio_pci virtio_balloon" ||
		fail "cannot build the initramfs"
}

exporter_start() {
	EPORT=$(free_port)
	"$VMMEMTOP" export --syscall-tracepoints --listen 127.0.0.1:$EPORT --interval 1 > "$TMP/exporter.log" 2>&1 &
	EXP=$!
	at_exit "kill $EXP; wait $EXP"
}

metrics() { curl -sf "http://127.0.0.1:$EPORT/metrics"; }
series() { metrics | grep -F "$1{$LABELS} " | awk '{ print $NF }'; }
