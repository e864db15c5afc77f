#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vmmemtop's interactive view, driven in tmux (send-keys, capture-pane) against two real QEMU
# guests booted from the same initramfs with KSM merging them. Checks: rows with the right
# names and pids; sort, filter, drill-down and help change the screen; a resize to 80x24
# does not crash; the KSMPAGES column equals /proc/PID/ksm_stat ksm_merging_pages (the
# oracle) once ksmd is stopped; q exits 0.
set -u
. "$(dirname "$0")/lib/rig.sh"
command -v tmux >/dev/null || skip "tmux not installed"
K=/sys/kernel/mm/ksm
for f in run pages_to_scan sleep_millisecs; do at_exit "echo $(cat $K/$f) > $K/$f"; done

balloon_initramfs
vm_start red "$INITRD" 256 -name guest=red -device virtio-balloon-pci
vm_start blue "$INITRD" 256 -name guest=blue -device virtio-balloon-pci
vm_wait red READY 90 && vm_wait blue READY 90 || fail "guests did not boot"
R=${VM_PID[red]} B=${VM_PID[blue]}
echo 1000 > $K/pages_to_scan; echo 20 > $K/sleep_millisecs; echo 1 > $K/run

S=vmmemtop-test-$$
at_exit "tmux kill-session -t $S"
tmux new-session -d -s $S -x 120 -y 32 "LANG=C.UTF-8 TERM=xterm-256color $VMMEMTOP -d 1; echo EXIT=\$? > $TMP/exit; sleep 30"
screen() { tmux capture-pane -p -t $S; }
wait_screen() {		# wait_screen REGEX [SECONDS]
	local i
	for i in $(seq 1 $((${2:-10} * 5))); do screen | grep -qE "$1" && return 0; sleep 0.2; done
	echo "--- screen:"; screen; return 1
}
row() { screen | awk -v p="$1" '$2 == p'; }

wait_screen "^red +$R " 15 || fail "no row for red ($R)"
wait_screen "^blue +$B " 5 || fail "no row for blue ($B)"
echo "rows: red $R, blue $B"

tmux send-keys -t $S '>'
wait_screen "tdp_map_2m *$" 5 || fail "'>' did not move the sort column (sparkline metric)"
tmux send-keys -t $S '<' '<' '<'
wait_screen "^NAME .*RSS" 5 || fail "header lost after sorting"
tmux send-keys -t $S 'r'
sleep 0.5
tmux send-keys -t $S '/' 'b' 'l' 'u' 'e' Enter
wait_screen "filter: blue" 5 || fail "filter not shown"
[ -z "$(row $R)" ] && [ -n "$(row $B)" ] || fail "filter 'blue' should leave only blue"
tmux send-keys -t $S Enter
wait_screen "counter +per second +total" 5 || fail "Enter did not open the drill-down"
screen | grep -q "^blue  pid $B" || fail "drill-down is not for blue"
tmux send-keys -t $S Escape
sleep 0.3
tmux send-keys -t $S Escape	# clears the filter
wait_screen "^red +$R " 5 || fail "Esc did not clear the filter"
tmux send-keys -t $S a
wait_screen "^\[(info|warn|crit)\] [a-z-]+  (host|vm:)" 5 || fail "a did not show the advice pane"
screen | grep -q "evidence:" || fail "the advice pane shows no evidence"
tmux send-keys -t $S a
wait_screen "^red +$R " 5 || fail "a did not leave the advice pane"
tmux send-keys -t $S '?'
wait_screen "vmmemtop keys" 5 || fail "? did not show help"
tmux send-keys -t $S x
wait_screen "^red +$R " 5 || fail "a key did not leave help"
tmux resize-window -t $S -x 80 -y 24
sleep 1.5
wait_screen "^(red|blue) " 5 || fail "nothing drawn after resizing to 80x24"

# KSM column against the oracle: let ksmd merge the two guests, stop it, compare
sleep 6
echo 0 > $K/run
sleep 2.5		# two refreshes after the last merge
ok=1
for p in $R $B; do
	got=$(row $p | awk '{ print $8 }')
	want=$(awk '/^ksm_merging_pages/ { print $2 }' /proc/$p/ksm_stat)
	echo "pid $p: screen KSMPAGES=$got, /proc/$p/ksm_stat ksm_merging_pages=$want"
	[ "$got" = "$want" ] || ok=0
done
[ $ok = 1 ] || { screen; fail "KSM column differs from /proc/PID/ksm_stat"; }
[ "$want" -gt 0 ] || fail "KSM merged nothing between two identical guests: the check proves nothing"

tmux send-keys -t $S q
for i in $(seq 1 25); do [ -s $TMP/exit ] && break; sleep 0.2; done
[ "$(cat $TMP/exit 2>/dev/null)" = "EXIT=0" ] || fail "q did not exit 0 ($(cat $TMP/exit 2>/dev/null))"
echo "PASS: rows, sort, filter, drill-down, help, resize and the KSM column behave; q exits 0"
