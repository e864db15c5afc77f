#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The advisor's rules on fixed scenarios. Oracle: the hand-written expectations beside each
# snapshot. tests/advise/NAME.json must give exactly the "id target" lines of NAME.expect
# (and, if NAME.jq exists, that jq filter must print true on the output: exact commands);
# every id of the vocabulary is produced by some scenario; every advice carries evidence, an
# action and (but for "healthy") a command. Malformed snapshots (bad-*.json) must exit 1 with
# nothing on stdout and exactly one error line holding every line of bad-NAME.err.
. "$(dirname "$0")/lib.sh"
command -v jq > /dev/null || skip "jq is not installed"
make_tmp
dir=$TOPDIR/tests/advise
ok=1 seen="" nscen=0 nbad=0
for f in "$dir"/*.json; do
	n=$(basename "$f" .json)
	case $n in bad-*) continue ;; esac
	nscen=$((nscen + 1))
	[ -f "$dir/$n.expect" ] || { echo "FAIL $n: no $n.expect"; ok=0; continue; }
	out=$("$VMMEMTOP" advise --from "$f" --json 2> "$TMP/err") ||
		{ echo "FAIL $n: exit $? $(cat "$TMP/err")"; ok=0; continue; }
	got=$(jq -r '.advice[] | "\(.id) \(.target)"' <<< "$out" | sort)
	exp=$(sort "$dir/$n.expect")
	if [ "$got" != "$exp" ]; then
		echo "FAIL $n: got [$(echo $got)] expected [$(echo $exp)]"; ok=0; continue
	fi
	incomplete=$(jq -r '.advice[] | select(.evidence == "" or .action == "" or
		(.id != "healthy" and (.command == "" or .risk == ""))) | .id' <<< "$out")
	[ -z "$incomplete" ] || { echo "FAIL $n: advice without evidence/action/command/risk: $incomplete"; ok=0; }
	if [ -f "$dir/$n.jq" ] && [ "$(jq -f "$dir/$n.jq" <<< "$out")" != true ]; then
		echo "FAIL $n: $(cat "$dir/$n.jq") is not true for:"; jq -c '.advice[] | {id, command, evidence}' <<< "$out"
		ok=0; continue
	fi
	echo "ok   $n: $(echo $got)"
	seen="$seen $(jq -r '.advice[].id' <<< "$out")"
done
for id in ksm-enable ksm-disable ksm-scan-faster ksm-scan-slower ksm-exclude-vm thp-enable thp-defrag \
	  hugepages-vm balloon-inflate balloon-deflate swap-increase vm-host-swapped vm-ipi-preempted healthy; do
	[[ " $seen " == *" $id "* ]] || { echo "FAIL: no scenario produces $id"; ok=0; }
done
for f in "$dir"/bad-*.json; do
	n=$(basename "$f" .json)
	nbad=$((nbad + 1))
	"$VMMEMTOP" advise --from "$f" > "$TMP/out" 2> "$TMP/err"
	rc=$?
	lines=$(wc -l < "$TMP/err")
	if [ $rc -ne 1 ] || [ "$lines" -ne 1 ] || [ -s "$TMP/out" ]; then
		echo "FAIL $n: exit $rc (expected 1), $lines error lines (expected 1), stdout $(wc -c < "$TMP/out") bytes (expected 0)"
		ok=0; continue
	fi
	if [ -f "$dir/$n.err" ]; then
		while IFS= read -r want; do
			grep -qF -- "$want" "$TMP/err" || { echo "FAIL $n: error '$(cat "$TMP/err")' lacks '$want'"; ok=0; }
		done < "$dir/$n.err"
	fi
	echo "ok   $n: $(cat "$TMP/err")"
done
# the same snapshot from stdin
"$VMMEMTOP" advise --from - --json < "$dir/healthy-no-vms.json" > "$TMP/out" 2>&1 &&
	[ "$(jq -r '.advice[0].id' "$TMP/out")" = healthy ] || { echo "FAIL: --from - (stdin): $(cat "$TMP/out")"; ok=0; }
# the writer's contract: what `snapshot --json` writes on this host, advise reads back
if [ "$(id -u)" -eq 0 ] && "$VMMEMTOP" snapshot --json --interval 0.5 > "$TMP/live.json" 2> /dev/null; then
	"$VMMEMTOP" advise --from "$TMP/live.json" --json > "$TMP/out" 2> "$TMP/err" &&
		jq -e '.advice | length >= 1' "$TMP/out" > /dev/null ||
		{ echo "FAIL: advise cannot read this host's snapshot --json: $(cat "$TMP/err")"; ok=0; }
else
	echo "note: live snapshot round trip not run (needs root and BPF)"
fi
"$VMMEMTOP" advise --from /nonexistent.json 2> /dev/null
rc=$?; [ $rc -eq 1 ] || { echo "FAIL: missing file: exit $rc, expected 1"; ok=0; }
"$VMMEMTOP" advise --interval abc 2> /dev/null
rc=$?; [ $rc -eq 2 ] || { echo "FAIL: bad --interval: exit $rc, expected 2"; ok=0; }
"$VMMEMTOP" advise --from "$dir/healthy-no-vms.json" --interval 3 2> /dev/null
rc=$?; [ $rc -eq 2 ] || { echo "FAIL: --from with --interval: exit $rc, expected 2"; ok=0; }
"$VMMEMTOP" advise --help | grep -q 'examples:' || { echo "FAIL: --help has no examples"; ok=0; }
[ $ok = 1 ] || fail "advisor scenarios"
echo "PASS: $nscen scenarios give exactly their expected advice; $nbad malformed snapshots give one error line each"
