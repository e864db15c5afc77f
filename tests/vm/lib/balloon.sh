# SPDX-License-Identifier: MIT
# The balloon guest's oracle (sourced by rigs that boot guest/balloon-init.sh as VM "g"): the
# guest prints its /proc/vmstat balloon counters on the console as "VMSTAT name=value ...".
#   vmstat                 the newest VMSTAT line
#   field NAME             NAME's value from a VMSTAT line on stdin
#   wait_stable NAME MIN   until the guest's NAME reached MIN (1) or stopped growing for 5 s (0)
vmstat() { grep VMSTAT "${VM_LOG[g]}" | tail -n 1; }
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }
wait_stable() {
	local last=-1 same=0 v
	for _ in $(seq 1 600); do
		v=$(vmstat | field "$1")
		[ "$v" -ge "$2" ] && return 0
		if [ "$v" = "$last" ]; then same=$((same + 1)); [ $same -ge 25 ] && return 1; else same=0; fi
		last=$v
		sleep 0.2
	done
	return 1
}
