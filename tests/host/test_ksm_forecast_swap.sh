#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The KSM forecast never faults in swapped memory. A worker whose 32 MiB of random pages are
# pushed to a temporary swapfile (MADV_PAGEOUT), forecast at full speed.
# Oracles: the worker's VmSwap (/proc/PID/status) and majflt (/proc/PID/stat field 12), and
# the host's pswpin (/proc/vmstat): none may move; the forecast's swapped_bytes = VmSwap.
# Control (proves the oracle sees a fault-in): reading the same range through /proc/PID/mem
# afterwards must lower VmSwap. Holds /tmp/vmmem-host.lock for the swapfile,
# which is removed at exit.
. "$(dirname "$0")/lib.sh"
need_root
command -v mkswap > /dev/null && command -v swapon > /dev/null || skip "mkswap/swapon not installed"
make_tmp

host_lock
SW=$(mktemp /var/tmp/vmmem-swap.XXXXXX)
at_exit "rm -f '$SW'"
fallocate -l 128M "$SW" && chmod 600 "$SW" && mkswap -q "$SW" > /dev/null ||
	fail "cannot make a swapfile on $(df --output=fstype /var/tmp | tail -1)"
swapon "$SW" || fail "swapon $SW refused (filesystem $(df --output=fstype /var/tmp | tail -1))"
at_exit "swapoff '$SW'"

# ZERO SHARED DUP RANDOM UNTOUCHED; -p: RANDOM to swap
"$TOOLS/ksm_content" -p 99 1024 2048 512 8192 0 > "$TMP/w.pid" & at_exit "kill $! 2>/dev/null; wait $! 2>/dev/null"
for i in $(seq 1 100); do [ -s "$TMP/w.pid" ] && break; sleep 0.1; done
W=$(cat "$TMP/w.pid")
[ -n "$W" ] || fail "worker did not start"
vmswap() { awk '/^VmSwap/ { print $2 * 1024 }' /proc/$W/status; }
majflt() { awk '{ print $12 }' /proc/$W/stat; }
pswpin() { awk '/^pswpin / { print $2 }' /proc/vmstat; }
s0=$(vmswap) m0=$(majflt) p0=$(pswpin)
echo "worker $W: VmSwap $s0 bytes, majflt $m0; host pswpin $p0"
[ "$s0" -ge $((16 << 20)) ] || fail "MADV_PAGEOUT put only $s0 bytes in swap"

"$VMMEMTOP" ksm-forecast --pid $W --rate 0 --json --no-save > "$TMP/f.json" 2> "$TMP/err" ||
	fail "ksm-forecast failed: $(cat "$TMP/err")"
s1=$(vmswap) m1=$(majflt) p1=$(pswpin)
fs=$(jq -r '.vms[0].swapped_bytes' "$TMP/f.json")
sc=$(jq -r '.vms[0].scanned_bytes' "$TMP/f.json")
echo "after the forecast: VmSwap $s1 (was $s0), majflt $m1 (was $m0), pswpin $p1 (was $p0)"
echo "forecast swapped_bytes = $fs, oracle VmSwap = $s1; scanned_bytes = $sc"
ok=1
[ "$s1" = "$s0" ] || { echo "VmSwap moved"; ok=0; }
[ "$m1" = "$m0" ] || { echo "majflt moved"; ok=0; }
[ "$p1" = "$p0" ] || { echo "pswpin moved"; ok=0; }
[ "$fs" = "$s1" ] || { echo "swapped_bytes differs from VmSwap"; ok=0; }
[ "$sc" -le $(( (1024 + 2048 + 512 + 8192) * 4096 - s1 )) ] || { echo "scanned more than is resident"; ok=0; }

# control: a reader that does fault swapped pages in is seen by the same oracle
python3 - "$W" <<'PY' || fail "control read failed"
import sys
pid = int(sys.argv[1])
with open(f"/proc/{pid}/smaps") as f:
    lines = f.read().split("\n")
areas, cur = [], None
for l in lines:
    if l and "-" in l.split()[0] and len(l.split()) >= 5 and all(c in "0123456789abcdef-" for c in l.split()[0]):
        s, e = (int(x, 16) for x in l.split()[0].split("-"))
        cur = [s, e, 0]
        areas.append(cur)
    elif l.startswith("Swap:") and cur:
        cur[2] = int(l.split()[1])
with open(f"/proc/{pid}/mem", "rb", buffering=0) as m:
    for s, e, sw in areas:
        if sw:
            m.seek(s)
            m.read(e - s)
PY
s2=$(vmswap) p2=$(pswpin)
echo "control (read through /proc/$W/mem): VmSwap $s2, pswpin $p2"
# (pages still in the swap cache come back without I/O: pswpin need not move, VmSwap must)
[ "$s2" -lt "$s1" ] || fail "control: the oracle did not see a reader that faults pages in"
[ $ok = 1 ] || fail "the forecast touched swapped memory"
echo "PASS: the forecast left VmSwap, majflt and pswpin unchanged; swapped_bytes = VmSwap"
