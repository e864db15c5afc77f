#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The command line as an operator meets it. Oracles: the command tables (one meaning per
# short option across commands, one range per option), every command's --help against the
# man page, the man page's OPTIONS section against `vmmemtop help --man`,
# jq on `advise --json` for the exit status of `advise --check`, -v's probe lines for "no
# kernel work before the arguments are checked", /proc/PID/comm for the view's filters, and an
# unprivileged user (nobody) for the privilege message.
. "$(dirname "$0")/lib.sh"
make_tmp
ok=1
bad() { echo "FAIL: $*"; ok=0; }

# 1. one meaning per short option: letter -> long name, over every command's table as the
#    binary parses it (`vmmemtop help --options`: "COMMAND -x --long ARG" per spelling; an
#    alias letter names its alias: -d --delay is -i --interval's)
"$VMMEMTOP" help --options > "$TMP/options" || bad "help --options failed"
awk '$2 ~ /^-.$/ { print $2, $3 }' "$TMP/options" | sort -u > "$TMP/shorts"
clash=$(awk '{ n[$1]++ } END { for (c in n) if (n[c] > 1) print c }' "$TMP/shorts")
[ -z "$clash" ] || bad "short options with two meanings: $(grep -F -- "$clash" "$TMP/shorts" | xargs)"
echo "short options: $(wc -l < "$TMP/shorts") letters, each with one meaning ($(wc -l < "$TMP/options") spellings in $(awk '{ print $1 }' "$TMP/options" | sort -u | wc -l) commands)"
grep -q -- '^-b --batch$' "$TMP/shorts" && grep -q -- '^-B --backend$' "$TMP/shorts" ||
	bad "-b should be --batch and -B --backend: $(grep -E -- '^-[bB] ' "$TMP/shorts")"
# one declaration, one range: a value out of range is refused alike by every command that
# takes the option (one error line, exit 2, no kernel work); oracle: the table's range 0.1..86400
for cmd in "" snapshot export advise record "replay /dev/null"; do
	for v in 0.05 86401 nope; do
		"$VMMEMTOP" $cmd --interval $v > /dev/null 2> "$TMP/err"; rc=$?
		[ $rc = 2 ] && [ "$(wc -l < "$TMP/err")" = 1 ] && grep -q "0.1 to 86400" "$TMP/err" ||
			bad "${cmd:-view} --interval $v: exit $rc, stderr: $(cat "$TMP/err")"
	done
	"$VMMEMTOP" $cmd --no-such-option > /dev/null 2> "$TMP/err"; rc=$?
	[ $rc = 2 ] && grep -q "unrecognized option" "$TMP/err" || bad "${cmd:-view} --no-such-option: exit $rc"
done
for a in "-n 0" "-p 0" "-N ''" "--backend nope" "--track x"; do
	eval "\"\$VMMEMTOP\" snapshot $a" > /dev/null 2> "$TMP/err"; rc=$?
	[ $rc = 2 ] && [ "$(wc -l < "$TMP/err")" = 1 ] || bad "snapshot $a: exit $rc, stderr: $(cat "$TMP/err")"
done
echo "--interval 0.05/86401/nope refused (exit 2, one line) by the view, snapshot, export, advise, record, replay"

# 2a. the man page's OPTIONS section is what the tables make (make man rewrites it)
awk '/^\.SH /{ on = ($0 == ".SH OPTIONS"); next } on' "$TOPDIR/deploy/vmmemtop.8" > "$TMP/man-options"
"$VMMEMTOP" help --man > "$TMP/gen-options"
diff -u "$TMP/man-options" "$TMP/gen-options" > "$TMP/man.diff" ||
	bad "deploy/vmmemtop.8 OPTIONS differs from \`vmmemtop help --man\` (run make man): $(head -20 "$TMP/man.diff")"
echo "man OPTIONS section: $(wc -l < "$TMP/gen-options") lines, identical to help --man"

# 2. the man page names every long option of every command's --help, and every subcommand
man=$TOPDIR/deploy/vmmemtop.8
for cmd in "" snapshot export advise record report replay ksm-forecast working-set; do
	opts=$("$VMMEMTOP" $cmd --help | grep -oE -- '(^|[ ,[(])--[a-z][a-z0-9.-]*' | grep -oE -- '--[a-z][a-z0-9.-]*' | sort -u)
	for o in $opts; do
		grep -qF -- "$(sed 's/-/\\-/g' <<< "$o")" "$man" || bad "man page lacks ${cmd:-view} $o"
	done
	[ -z "$cmd" ] || grep -q "^\.B $cmd\$" "$man" || bad "man page has no section for $cmd"
done

# 3. advise --check: 0 none, 1 warn, 2 crit, 3 unknown; oracle: the worst severity in --json
jq '.host.mem_available_kb = (.host.mem_total_kb * 0.05 | floor) | .host.mem_free_kb = .host.mem_available_kb' \
	"$TOPDIR/tests/advise/pressure-one-idle-vm.json" > "$TMP/crit.json"
for f in "$TOPDIR/tests/advise/healthy-one-vm.json" "$TOPDIR/tests/advise/ksm-enable.json" "$TMP/crit.json"; do
	want=$("$VMMEMTOP" advise --from "$f" --json | jq '[.advice[].severity | {info: 0, warn: 1, crit: 2}[.]] | max // 0')
	out=$("$VMMEMTOP" advise --from "$f" --check); got=$?
	[ "$got" = "$want" ] || bad "advise --check $(basename "$f"): exit $got, worst severity says $want"
	head -1 <<< "$out" | grep -qE '^VMMEM (OK|WARNING|CRITICAL) - ' || bad "advise --check: no summary line: $(head -1 <<< "$out")"
	"$VMMEMTOP" advise --from "$f" --check --json | jq -e .advice > /dev/null || bad "advise --check --json is not one JSON document"
	echo "advise --check $(basename "$f"): oracle (worst severity) = $want, exit = $got"
done
"$VMMEMTOP" advise --from "$TOPDIR/tests/advise/bad-empty.json" --check > /dev/null 2>&1; rc=$?
[ $rc = 3 ] || bad "advise --check on a damaged snapshot: exit $rc, want 3 (unknown)"
"$VMMEMTOP" advise --check --interval nope > /dev/null 2>&1; rc=$?
[ $rc = 3 ] || bad "advise --check with a bad option: exit $rc, want 3 (unknown)"
"$VMMEMTOP" advise --from "$TOPDIR/tests/advise/ksm-enable.json" > /dev/null; rc=$?
[ $rc = 0 ] || bad "advise without --check must exit 0 after printing advice, got $rc"

# 4. export checks --listen before any kernel work: -v prints the kernel feature probes
#    in core_open; none may appear, and the error is one line, exit 2
for addr in "nonsense" "1.2.3.4.5:80" ":99999" "[::1:80"; do
	"$VMMEMTOP" export -v --listen "$addr" > /dev/null 2> "$TMP/err"; rc=$?
	[ $rc = 2 ] && [ "$(wc -l < "$TMP/err")" = 1 ] || bad "export --listen '$addr': exit $rc, stderr: $(cat "$TMP/err")"
done
need_root
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)' > "$TMP/port" &
holder=$!; at_exit "kill $holder"
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
"$VMMEMTOP" export -v --listen "127.0.0.1:$(cat "$TMP/port")" > /dev/null 2> "$TMP/err"; rc=$?
if [ $rc = 0 ] || grep -qiE 'probe|libbpf|counting' "$TMP/err" || [ "$(wc -l < "$TMP/err")" != 1 ]; then
	bad "export on a port in use: exit $rc; want one error line before any BPF work, got: $(cat "$TMP/err")"
else
	echo "export on a port in use: $(cat "$TMP/err") (no probe line: no kernel work)"
fi

# 5. the view's -p and -N, in batch mode; oracle: the comm of two tracked processes
cp /bin/sleep "$TMP/vm-alpha"; cp /bin/sleep "$TMP/vm-beta"
"$TMP/vm-alpha" 60 & a=$!; "$TMP/vm-beta" 60 & b=$!
at_exit "kill $a $b"
rows() { "$VMMEMTOP" -b -n 1 -d 0.5 --track $a --track $b "$@" 2> "$TMP/view.err" | grep -oE 'vm-(alpha|beta)' | sort -u | xargs; }
all=$(rows); alpha=$(rows -N alpha); beta=$(rows -p $b); none=$(rows -N nosuchvm)
echo "view rows: all=[$all] -N alpha=[$alpha] -p $b=[$beta] -N nosuchvm=[$none]"
[ "$all" = "vm-alpha vm-beta" ] || bad "view without a filter shows [$all] $(cat "$TMP/view.err")"
[ "$alpha" = "vm-alpha" ] || bad "view -N alpha shows [$alpha]"
[ "$beta" = "vm-beta" ] || bad "view -p $b shows [$beta]"
[ -z "$none" ] || bad "view -N nosuchvm shows [$none]"
"$VMMEMTOP" -b -n 1 -p nope > /dev/null 2>&1; rc=$?
[ $rc = 2 ] || bad "view -p nope: exit $rc, want 2"

# 6. an unprivileged user with tracefs mounted (0700 root) is told which privilege is missing,
#    not that tracefs is unmounted; oracle: tracefs is mounted (mountpoint) and the user is nobody
need_tracefs
if mountpoint -q /sys/kernel/tracing && command -v setpriv > /dev/null; then
	for b in bpf auto; do
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$VMMEMTOP" snapshot --backend $b \
			> /dev/null 2> "$TMP/unpriv.err"; rc=$?
		msg=$(cat "$TMP/unpriv.err")
		[ $rc = 1 ] && [ "$(wc -l < "$TMP/unpriv.err")" = 1 ] || bad "unprivileged --backend $b: exit $rc, stderr: $msg"
		grep -q "cannot be mounted" <<< "$msg" && bad "unprivileged --backend $b says tracefs cannot be mounted: $msg"
		for w in "not readable by uid 65534" root "CAP_BPF + CAP_PERFMON" "--backend kmod" "group of /dev/vmmem"; do
			grep -qF -- "$w" <<< "$msg" || bad "unprivileged --backend $b: the message lacks '$w': $msg"
		done
	done
	echo "unprivileged (nobody, tracefs mounted): $(cut -c1-160 "$TMP/unpriv.err")..."
else
	bad "tracefs is not mounted or setpriv is missing: cannot test the unprivileged message"
fi

[ $ok = 1 ] || exit 1
echo "PASS"
