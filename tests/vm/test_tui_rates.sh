#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The view's rate and total columns, and the advice pane at a narrow width, in tmux against a
# real QEMU guest (TCG, virtio-balloon) that inflates its balloon by 128 MiB. Proves:
#  - the event columns are titled as rates (INFL/s, DEFL/s, TLBIPI/s, scans/s) and, once the
#    inflate finished, INFL/s reads 0 (a rate), while `t` switches to totals (INFLATE) where
#    the row shows 128M: the guest's /proc/vmstat balloon_inflate x 4096 (the oracle);
#    `--totals` starts in that mode;
#  - the advice pane at 60 columns wraps evidence instead of cutting it: no line is wider
#    than the screen, and an evidence longer than one line continues on indented lines.
set -u
. "$(dirname "$0")/lib/rig.sh"
. "$(dirname "$0")/lib/balloon.sh"
command -v tmux >/dev/null || skip "tmux not installed"

balloon_initramfs
vm_start g "$INITRD" 512 -name guest=rates -device virtio-balloon-pci
vm_wait g READY 120 && vm_wait g VMSTAT 30 || fail "guest did not boot"
P=${VM_PID[g]}
# QEMU discards some RAM of its own after boot: start the view once that has stopped, so its
# totals hold the balloon alone (oracle: the guest's vmstat)
quiet() { "$VMMEMTOP" snapshot --syscall-tracepoints --interval 2 --json --pid $P 2>/dev/null |
	jq -e '.vms[0].counters.balloon_inflate_bytes == 0' > /dev/null; }
for _ in $(seq 20); do quiet && break; done

S=vmmemtop-rates-$$
at_exit "tmux kill-session -t $S"
tmux new-session -d -s $S -x 120 -y 30 "LANG=C.UTF-8 TERM=xterm-256color $VMMEMTOP --syscall-tracepoints -d 1 -p $P; echo EXIT=\$? > $TMP/exit; sleep 30"
screen() { tmux capture-pane -p -t $S; }
wait_screen() {
	local i
	for i in $(seq 1 $((${2:-10} * 5))); do screen | grep -qE "$1" && return 0; sleep 0.2; done
	echo "--- screen:"; screen; return 1
}
row() { screen | awk -v p="$P" '$2 == p'; }
wait_screen "^rates +$P " 20 || fail "no row for the guest"
hdr=$(screen | grep '^NAME')
for w in "TLBIPI/s" "INFL/s" "DEFL/s"; do grep -qF "$w" <<< "$hdr" || fail "column title $w missing: $hdr"; done
screen | grep -qE 'scans/s ([0-9.]+|-)' || fail "the header's KSM scans are not labelled per second: $(screen | grep KSM)"
echo "rate titles: $(grep -oE 'TLBIPI/s|INFL/s|DEFL/s' <<< "$hdr" | xargs), $(screen | grep -oE 'scans/s [^ ]+')"

i0=$(vmstat | field balloon_inflate)
r=$(qmp g '{"execute":"balloon","arguments":{"value":402653184}}')
echo "$r" | grep -q '"return"' || fail "QMP balloon: $r"
wait_stable balloon_inflate $((i0 + 32768)) || fail "the guest inflated only to $(vmstat)"
i1=$(vmstat | field balloon_inflate)
sleep 3		# two refreshes after the last page
rate=$(row | awk '{ print $9 }')
echo "finished inflate of $(( (i1 - i0) * 4096 )) bytes (guest vmstat): INFL/s column = $rate"
[ "$rate" = 0K ] || fail "INFL/s after the inflate finished is '$rate', want 0K: $(row)"

tmux send-keys -t $S t
wait_screen "^NAME .*INFLATE +DEFLATE" 5 || fail "t did not switch to totals"
screen | grep -qE 'scans ([0-9]+|-) ' || fail "the header's KSM scans are not a total after t: $(screen | grep KSM)"
want=$(awk -v b=$(( (i1 - i0) * 4096 )) 'BEGIN { printf "%.0fM", b / 1048576 }')
total=$(row | awk '{ print $9 }')
echo "totals: INFLATE = $total, guest vmstat ($i1 - $i0) x 4096 = $want"
[ "$total" = "$want" ] || fail "INFLATE total '$total', the guest inflated $want: $(row)"
tmux send-keys -t $S t
wait_screen "^NAME .*INFL/s +DEFL/s" 5 || fail "t did not switch back to rates"

# the advice pane, 60 columns: wrapped, not cut
tmux resize-window -t $S -x 60 -y 40
sleep 1.5
tmux send-keys -t $S a
wait_screen "^\[(info|warn|crit)\] " 10 || fail "a did not show the advice pane"
sleep 1.2
screen > "$TMP/pane"
awk 'length($0) > 60 { bad = 1 } END { exit bad }' "$TMP/pane" || fail "a line wider than the screen: $(cat "$TMP/pane")"
ev=$(awk '/^  evidence: / { on = 1; printf "%s", substr($0, 13); next }
	  on && /^            [^ ]/ { printf " %s", substr($0, 13); next } { on = 0 }' "$TMP/pane" | head -c 2000)
nlines=$(awk '/^  evidence: / { on = 1; n++; next } on && /^            [^ ]/ { n++; next } { on = 0 } END { print n + 0 }' "$TMP/pane")
echo "advice pane at 60 columns: evidence over $nlines lines, ${#ev} characters: $ev"
[ "${#ev}" -gt 48 ] || fail "no evidence longer than one 60-column line to show the wrapping: $(cat "$TMP/pane")"
tmux send-keys -t $S q
for i in $(seq 1 25); do [ -s $TMP/exit ] && break; sleep 0.2; done
[ "$(cat $TMP/exit 2>/dev/null)" = "EXIT=0" ] || fail "q did not exit 0"

# --totals starts in totals mode
tmux kill-session -t $S
tmux new-session -d -s $S -x 120 -y 30 "LANG=C.UTF-8 TERM=xterm-256color $VMMEMTOP --syscall-tracepoints -d 1 -p $P --totals; sleep 30"
wait_screen "^NAME .*INFLATE +DEFLATE" 15 || fail "--totals did not start with totals"
echo "PASS"
