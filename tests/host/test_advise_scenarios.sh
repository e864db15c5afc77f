#!/usr/bin/env bash
# The advisor's rules on fixed scenarios: tests/advise/NAME.json (a snapshot) must give exactly
# the ids and targets in NAME.expect; every id of the vocabulary is exercised; every advice
# carries evidence, an action and (but for "healthy") a command. Malformed snapshots
# (bad-*.json) must fail with exit 1 and exactly one error line.
. "$(dirname "$0")/lib.sh"
dir=$TOPDIR/tests/advise
ok=1 seen=""
for f in "$dir"/*.json; do
	n=$(basename "$f" .json)
	case $n in bad-*) continue ;; esac
	out=$("$VMMEMTOP" advise --from "$f" --json 2>/tmp/advise.err) || { echo "FAIL $n: exit $? $(cat /tmp/advise.err)"; ok=0; continue; }
	got=$(jq -r '.advice[] | "\(.id) \(.target)"' <<< "$out" | sort)
	exp=$(sort "$dir/$n.expect")
	if [ "$got" != "$exp" ]; then
		echo "FAIL $n: got [$(echo $got)] expected [$(echo $exp)]"; ok=0; continue
	fi
	incomplete=$(jq -r '.advice[] | select(.evidence == "" or .action == "" or (.id != "healthy" and .command == "")) | .id' <<< "$out")
	[ -z "$incomplete" ] || { echo "FAIL $n: advice without evidence/action/command: $incomplete"; ok=0; }
	echo "ok   $n: $(echo $got)"
	seen="$seen $(jq -r '.advice[].id' <<< "$out")"
done
for id in ksm-enable ksm-disable ksm-scan-faster ksm-scan-slower ksm-exclude-vm thp-enable thp-defrag \
	  hugepages-vm balloon-inflate balloon-deflate swap-increase healthy; do
	[[ " $seen " == *" $id "* ]] || { echo "FAIL: no scenario produces $id"; ok=0; }
done
for f in "$dir"/bad-*.json; do
	n=$(basename "$f" .json)
	"$VMMEMTOP" advise --from "$f" > /tmp/advise.out 2> /tmp/advise.err
	rc=$?
	lines=$(wc -l < /tmp/advise.err)
	if [ $rc -ne 1 ] || [ "$lines" -ne 1 ] || [ -s /tmp/advise.out ]; then
		echo "FAIL $n: exit $rc, $lines error lines, stdout $(wc -c < /tmp/advise.out) bytes"; ok=0
	else
		echo "ok   $n: $(cat /tmp/advise.err)"
	fi
done
rm -f /tmp/advise.out /tmp/advise.err
"$VMMEMTOP" advise --from /nonexistent.json 2>/dev/null; [ $? -eq 1 ] || { echo "FAIL: missing file must exit 1"; ok=0; }
"$VMMEMTOP" advise --interval abc 2>/dev/null; [ $? -eq 2 ] || { echo "FAIL: bad --interval must exit 2"; ok=0; }
[ $ok = 1 ] || fail "advisor scenarios"
echo "PASS: every scenario gives exactly its expected advice; malformed snapshots give one error line"
