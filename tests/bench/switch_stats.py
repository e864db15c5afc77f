# SPDX-License-Identifier: MIT
"""The switch bench's figures (tests/bench/switch_bench.sh): per placement and state, the
median of the ratios of adjacent blocks (state / none) with its 95 % interval, the added ns per
context switch, and each program's runs/s and ns/run from two bpf_stats snapshots per set.
usage: switch_stats.py BLOCKS DIR "PROG_IDS" """
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from syscall_stats import summary  # noqa: E402

STATES = (('D', "vmmemtop's default mode"), ('H', 'with --switch-tracepoints'),
          ('S', 'its sched_switch programs only'),
          ('T', 'its tlb_flush programs only'), ('E', 'empty tp_btf on both hooks'))
PLACES = (('same', 'both processes on CPU 1'), ('cross', 'parent on CPU 1, child on CPU 0'))


def main():
    out, d, ids = sys.argv[1:4]
    blocks = {}
    for line in open(out):
        ph, st, pair, med = line.split()[:4]
        blocks.setdefault((ph, st), {})[int(pair)] = float(med)
    for ph, where in PLACES:
        print(f"\n{ph} CPU ({where}): ns per pipe round trip (2 context switches), "
              "ratio to none attached in adjacent blocks")
        for st, what in STATES:
            x, a = blocks.get((ph, st), {}), blocks.get((ph, 'A' + st), {})
            pairs = sorted(set(x) & set(a))
            if not pairs:
                continue
            r = [x[p] / a[p] for p in pairs]
            m, q1, q3, lo, hi = summary(r)
            dns = statistics.median([(x[p] - a[p]) / 2 for p in pairs])
            print(f"  {st} {what:<31} {statistics.median(x[p] for p in pairs):8.0f} vs "
                  f"{statistics.median(a[p] for p in pairs):8.0f}  {m:.3f}x  IQR {q1:.3f}-{q3:.3f}  "
                  f"95% {lo:.3f}-{hi:.3f}  {dns:+.0f} ns/switch (n={len(pairs)})")
    want = {int(i) for i in ids.split()}
    print("\nbpf_stats beside the same-CPU loop (+ two clock reads per run), each set attached alone:")
    print(f"  {'program':<24} {'runs/s':>10} {'ns/run':>8} {'CPU us/s':>9}")
    for s, what in (('dflt', 'default mode'), ('all', 'with --switch-tracepoints'), ('empty', 'empty programs')):
        print(f"  ({what})")
        p0 = {p['id']: p for p in json.load(open(f"{d}/{s}.0.json"))}
        p1 = {p['id']: p for p in json.load(open(f"{d}/{s}.1.json"))}
        span = int(open(f"{d}/{s}.span").read()) / 1e9
        for i in sorted(want & p1.keys()):
            cnt = p1[i].get('run_cnt', 0) - p0.get(i, {}).get('run_cnt', 0)
            t = p1[i].get('run_time_ns', 0) - p0.get(i, {}).get('run_time_ns', 0)
            if cnt > 0:
                print(f"  {p1[i].get('name', '?'):<24} {cnt / span:>10.0f} {t / cnt:>8.0f} {t / span / 1e3:>9.1f}")


if __name__ == '__main__':
    main()
