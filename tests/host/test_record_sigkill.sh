#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Crash-safe recordings: `vmmemtop record` of a busy TLB worker (a record per shootdown,
# samples every 0.2 s) is killed with SIGKILL at KILLS random moments: every fifth 0-2.5 s
# after it starts (mostly while the backend loads: an empty file), the others 0-2.5 s after
# it says it records (the first chunk, mid-stream, between two chunks). Each file
# must hold only whole chunks plus at most the start of one, and `report` must read every
# complete chunk, then say where the file ends: exit 1, one line on stderr, never a crash.
# Oracle: tests/tools/rec_chunks (its own CRC-32 walk of the chunk headers and payloads):
# the chunk count and byte offset `report` names must be the ones it finds.
# RECORD_KILLS (default 20) and RECORD_KILL_SEED (default: random, printed) reproduce a run.
. "$(dirname "$0")/lib.sh"
need_root
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs for remote shootdowns"
command -v jq >/dev/null || skip "jq not installed"
make_tmp
KILLS=${RECORD_KILLS:-20}
SEED=${RECORD_KILL_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$SEED
echo "seed $SEED (RECORD_KILL_SEED=$SEED reproduces the kill moments)"

"$TOOLS/tlb_worker" 600 & W=$!; at_exit "kill $W"
sleep 0.2
kill -USR1 $W

ok=1 files=0 events=0 max_chunks=0 empty=0 partial=0
for i in $(seq 1 "$KILLS"); do
	ms=$((RANDOM % 2500))
	f=$TMP/k$i.rec
	"$VMMEMTOP" record --switch-tracepoints -o "$f" -i 0.2 --events default,tlb_shootdown --track $W 2> "$TMP/rec$i.err" &
	R=$!
	when="after start"
	if [ $((i % 5)) -ne 1 ]; then
		# most kills land while it records: counted from its "recording to" line (loading
		# the BPF programs takes seconds on a loaded machine)
		for _ in $(seq 1 300); do
			grep -q "recording to" "$TMP/rec$i.err" && break
			kill -0 $R 2>/dev/null || break
			sleep 0.1
		done
		grep -q "recording to" "$TMP/rec$i.err" || fail "record $i did not start: $(cat "$TMP/rec$i.err")"
		when="into the recording"
	fi
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL $R
	wait $R 2>/dev/null
	[ -e "$f" ] || { echo "kill $i at ${ms} ms $when: no file yet (killed before it was created)"; continue; }
	files=$((files + 1))
	read -r size header chunks end tail < <("$TOOLS/rec_chunks" "$f" | tr ' ' '\n' | cut -d= -f2 | tr '\n' ' ')
	"$VMMEMTOP" report "$f" > "$TMP/rep$i.out" 2> "$TMP/rep$i.err"; rc=$?
	"$VMMEMTOP" report --json "$f" > "$TMP/rep$i.json" 2>/dev/null
	lines=$(wc -l < "$TMP/rep$i.err")
	msg=$(head -n 1 "$TMP/rep$i.err")
	verdict=ok
	[ "$tail" = garbage ] && verdict="bytes after the last whole chunk are no chunk's start"
	[ "$verdict" = ok ] && [ $rc -ne 1 ] && verdict="report exited $rc, expected 1"
	[ "$verdict" = ok ] && [ "$lines" -ne 1 ] && verdict="report wrote $lines lines to stderr"
	[ "$verdict" = ok ] && grep -qiE 'sanitizer|segmentation|abort' "$TMP/rep$i.err" && verdict="report crashed"
	if [ "$verdict" = ok ]; then
		if [ "$size" -eq 0 ]; then
			empty=$((empty + 1))
			[[ "$msg" == *"empty file"* ]] || verdict="an empty file not called empty"
		elif [ "$chunks" -eq 0 ]; then
			[[ "$msg" == *"truncated at byte $size"* ]] || verdict="no chunk, but report did not name the cut at $size"
		elif [ "$size" -eq "$end" ]; then
			# the kill fell between two chunks: the end marker is what is missing
			[[ "$msg" == *"stops after chunk $((chunks - 1)) (byte $end)"* ]] ||
				verdict="report did not say it stops after chunk $((chunks - 1)) at byte $end"
		else
			partial=$((partial + 1))
			[[ "$msg" == *"truncated at byte $size"*"chunk $chunks (from byte $end)"* ]] ||
				verdict="report did not name the cut at $size in chunk $chunks from $end"
			[ "$chunks" -gt 1 ] && [[ "$msg" != *"the $chunks complete chunk"* ]] &&
				verdict="report did not say it read the $chunks complete chunks"
		fi
	fi
	ev=$(jq -r '.events // 0' "$TMP/rep$i.json" 2>/dev/null)
	[ "$verdict" = ok ] && [ "$chunks" -ge 3 ] && [ "${ev:-0}" -le 0 ] &&
		verdict="$chunks whole chunks of a busy recording, but report read no event from them"
	echo "kill $i at ${ms} ms $when: $size bytes, whole chunks (oracle) $chunks ending at $end, tail $tail;" \
		"report rc $rc, ${ev:-0} events: $msg: $verdict"
	[ "$verdict" = ok ] || ok=0
	events=$((events + ${ev:-0}))
	[ "$chunks" -gt "$max_chunks" ] && max_chunks=$chunks
done
echo "$KILLS kills: $files files ($empty empty, $partial with a partial chunk), up to $max_chunks whole chunks," \
	"$events events read back in all"
[ $ok = 1 ] || fail "a killed recording did not read back to its last whole chunk (seed $SEED)"
[ "$files" -ge $((KILLS / 2)) ] && [ "$max_chunks" -ge 3 ] ||
	fail "too few kills landed mid-recording to prove anything ($files files, up to $max_chunks chunks)"
echo "PASS: every killed recording reads back to its last whole chunk"
