# SPDX-License-Identifier: MIT
# The common part of the rigs that run the balloon guest "g" (guest/balloon-init.sh) under
# `vmmemtop export` and a real Prometheus (test_identity.sh, test_export_prometheus.sh).
# Source it instead of lib/rig.sh; it sources rig.sh, balloon.sh and tests/host/prometheus.sh.
#   exporter_rig_init BIN...  skip unless every BIN is here; Prometheus stopped at exit;
#                             fail MSG prints the logs, exits 1
#   exporter_start            `vmmemtop export` on a free port: $EPORT, $EXP (stopped at exit)
#   metrics                   the exposition; series NAME: NAME's value for {$LABELS}
#   inflate_settled MIN_PAGES the exporter's inflate bytes against the guest's own (below)
. "$(dirname "${BASH_SOURCE[0]}")/rig.sh"
. "$_rig_lib/balloon.sh"
. "$TOPDIR/tests/host/prometheus.sh"

exporter_rig_init() {
	for bin in "$@"; do
		command -v "$bin" >/dev/null || skip "$bin not installed (tests/deps.sh installs it)"
	done
	at_exit prom_stop
}

fail() {
	echo "FAIL: $*"
	for f in "$TMP"/*.log "${VM_LOG[g]:-/dev/null}"; do [ -s "$f" ] && { echo "--- $f"; tail -8 "$f"; }; done
	exit 1
}

exporter_start() {
	EPORT=$(free_port)
	"$VMMEMTOP" export --syscall-tracepoints --listen 127.0.0.1:$EPORT --interval 1 > "$TMP/exporter.log" 2>&1 &
	EXP=$!
	at_exit "stop_pid $EXP"
}

metrics() { curl -sf "http://127.0.0.1:$EPORT/metrics"; }
series() { metrics | grep -F "$1{$LABELS} " | awk '{ print $NF }'; }

# inflate_settled MIN_PAGES: after a balloon inflate that started from the guest's count $i0
# and the exporter's $b0, wait until vmmem_balloon_inflate_bytes_total{$LABELS} settles (the
# same value 2 s apart: $B1), then hold it against the oracle, the guest's own vmstat
# balloon_inflate x 4096 ($i1): at least MIN_PAGES pages, within 2 %.
inflate_settled() {
	_settled() {
		local a b
		a=$(series vmmem_balloon_inflate_bytes_total); sleep 2; b=$(series vmmem_balloon_inflate_bytes_total)
		[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$b0" ] && B1=$a
	}
	wait_for 30 _settled || fail "vmmem_balloon_inflate_bytes_total did not settle (now $(series vmmem_balloon_inflate_bytes_total))"
	i1=$(vmstat | field balloon_inflate)
	local oracle=$(( (i1 - i0) * 4096 )) got=$(( B1 - b0 ))
	echo "inflate: guest vmstat balloon_inflate $i0 -> $i1 (x 4096 = +$oracle) = exporter vmmem_balloon_inflate_bytes_total $b0 -> $B1 (+$got)"
	[ "$oracle" -ge $(($1 * 4096)) ] || fail "the guest inflated only $((i1 - i0)) pages"
	awk -v a="$got" -v b="$oracle" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.02 * b) }' ||
		fail "exporter +$got bytes, guest +$oracle bytes: more than 2 % apart"
}
