#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# On a host whose DAMON is someone else's (this CI host's 6.18: a paddr kdamond vmmem did not
# set up) or absent, `vmmemtop working-set` says so and writes nothing: every working_set_bytes
# null with the reason, exit 0, one stderr line. Oracle: the DAMON sysfs tree before and after
# (nr_kdamonds, each kdamond's state and thread pid: a kdamond torn down and set up again
# would have a new pid) and the kdamond thread itself still running. Never writes there itself.
set -u
. "$(dirname "$0")/lib.sh"
need_root
command -v jq >/dev/null || skip "jq not installed"
make_tmp
D=/sys/kernel/mm/damon/admin/kdamonds
tree() {
	local i
	[ -r $D/nr_kdamonds ] || { echo absent; return; }
	echo "nr_kdamonds $(cat $D/nr_kdamonds)"
	for i in $(seq 0 $(( $(cat $D/nr_kdamonds) - 1 ))); do
		echo "kdamond $i state $(cat $D/$i/state) pid $(cat $D/$i/pid)" \
		     "ops $(cat $D/$i/contexts/0/operations 2>/dev/null)"
	done
}
before=$(tree)
echo "before: $before"
[ "$before" != "nr_kdamonds 0" ] ||
	skip "DAMON here holds no kdamond: vmmemtop would set up its own (tests/vm/test_working_set.sh covers that)"
sleep 30 & W=$!
at_exit "kill $W 2>/dev/null"
"$VMMEMTOP" working-set --pid $W --window 2 --interval 1 -n 2 --json > "$TMP/ws.json" 2> "$TMP/err"
rc=$?
after=$(tree)
echo "after:  $after"
echo "stderr: $(cat "$TMP/err")"
jq -c '{available, reason, vms: [.vms[] | {pid, working_set_bytes}]}' "$TMP/ws.json"
[ $rc = 0 ] || fail "working-set exited $rc"
[ "$before" = "$after" ] || fail "the DAMON tree changed: before '$before', after '$after'"
for p in $(grep -o 'pid [0-9]*' <<< "$after" | cut -d' ' -f2); do
	[ "$p" = -1 ] || [ -d /proc/$p ] || fail "kdamond thread $p is gone"
done
[ "$(jq -r .available "$TMP/ws.json")" = false ] || fail "DAMON claimed available on a tree that is not vmmem's"
[ "$(jq -r '.vms[0].working_set_bytes' "$TMP/ws.json")" = null ] || fail "a figure where DAMON is unavailable"
reason=$(jq -r .reason "$TMP/ws.json")
grep -qE "in use|no DAMON sysfs" <<< "$reason" || fail "reason does not say why: $reason"
[ "$(wc -l < "$TMP/err")" = 1 ] || fail "expected one stderr line: $(cat "$TMP/err")"
echo "PASS: DAMON unavailable here and said so (\"$reason\"); the tree is unchanged, working_set_bytes null"
