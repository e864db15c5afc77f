# SPDX-License-Identifier: MIT
"""The syscall bench's figures (tests/bench/syscall_bench.sh): ratios of adjacent blocks,
their median, interquartile range and a 95 % interval of the median, and each of vmmemtop's
programs' share of the CPU from two bpf_stats snapshots.
usage: syscall_stats.py BLOCKS STATS0.json STATS1.json "PROG_IDS" SPAN_NS VMMEMTOP_CPU_NS"""
import json
import math
import statistics
import sys

GOAL = 1.03


def summary(v):
    """median, quartiles and a 95 % interval of the median (binomial order statistics)"""
    v = sorted(v)
    n = len(v)
    if n < 4:
        return statistics.median(v), v[0], v[-1], v[0], v[-1]
    q1, m, q3 = statistics.quantiles(v, n=4, method='inclusive')
    k = max(0, int(math.floor(n / 2 - 0.98 * math.sqrt(n))))
    return m, q1, q3, v[k], v[n - 1 - k]


def show(name, v):
    if not v:
        print(f"  {name:<34} -")
        return 1.0, 1.0, 1.0
    m, q1, q3, lo, hi = summary(v)
    print(f"  {name:<34} {m:.3f}x  IQR {q1:.3f}-{q3:.3f}  95% {lo:.3f}-{hi:.3f}  (n={len(v)})")
    return m, lo, hi


def main():
    out, s0, s1, ids, span, topcpu = sys.argv[1:7]
    blocks = {}
    for line in open(out):
        ph, st, pair, med = line.split()[:4]
        blocks.setdefault(ph, []).append((st, int(pair), float(med)))

    def ratios(ph, x, y):
        b, r = blocks.get(ph, []), []
        for p in sorted({p for st, p, m in b if st == x}):
            bx = [m for st, q, m in b if st == x and q == p]
            by = [m for st, q, m in b if st == y and q == p]
            r += [a / c for a, c in zip(bx, by)]
        return r

    def ns(ph, st):
        v = [m for s, q, m in blocks.get(ph, []) if s == st]
        return f"{statistics.median(v):.1f}" if v else "-"

    verdict = None
    for pl in ('pinned', 'unpinned'):
        where = ' (getppid loop on CPU 1, vmmemtop on CPU 0)' if pl == 'pinned' else ' (where the scheduler puts them)'
        print(f"\n{pl}{where}: median ns per getppid(): hooks phase A {ns(pl + '-hooks', 'A')}, "
              f"H {ns(pl + '-hooks', 'H')}; sampling phase H {ns(pl + '-sampling', 'H')}, R {ns(pl + '-sampling', 'R')}")
        a, alo, ahi = show("(a) vmmemtop's hooks attached, H/A", ratios(pl + '-hooks', 'H', 'A'))
        b, blo, bhi = show("(b) its sampling, R/H", ratios(pl + '-sampling', 'R', 'H'))
        print(f"  {'total, (a) x (b)':<34} {a * b:.3f}x  95% {alo * blo:.3f}-{ahi * bhi:.3f}")
        if pl == 'pinned':
            verdict = (a * b, alo * blo, ahi * bhi)
            if blocks.get('pinned-switch'):
                print(f"  context switches: median ns per pipe round trip (2 switches) A {ns('pinned-switch', 'A')}, "
                      f"H {ns('pinned-switch', 'H')}")
                show("(c) hooks on a switch-heavy load, H/A", ratios('pinned-switch', 'H', 'A'))
        d = blocks.get(pl + '-direct', [])
        if d:
            tot = []
            for c in sorted({p for st, p, m in d if st == 'R'}):
                r = [m for st, p, m in d if st == 'R' and p == c]
                aa = [m for st, p, m in d if st == 'A' and p in (c, c + 1)]
                tot.append(statistics.mean(r) / statistics.mean(aa))
            show("cross-check R/A, restarting", tot)
            print("    blocks (ns): " + " ".join(f"{st}{p}:{m:.0f}" for st, p, m in d))

    want = {int(i) for i in ids.split()}
    p0 = {p['id']: p for p in json.load(open(s0))}
    p1 = {p['id']: p for p in json.load(open(s1))}
    span_s = int(span) / 1e9
    rows, total = [], 0
    for i in sorted(want & p1.keys()):
        a0, z = p0.get(i, {}), p1[i]
        cnt = z.get('run_cnt', 0) - a0.get('run_cnt', 0)
        t = z.get('run_time_ns', 0) - a0.get('run_time_ns', 0)
        total += t
        rows.append((t, z.get('name', '?'), cnt))
    print(f"\nvmmemtop's programs, bpf_stats on, {span_s:.1f} s beside the pinned loop "
          "(+~20 ns of clock reads per run):")
    print(f"  {'program':<24} {'runs/s':>10} {'ns/run':>8} {'CPU us/s':>9}")
    for t, name, cnt in sorted(rows, reverse=True):
        if cnt:
            print(f"  {name:<24} {cnt / span_s:>10.0f} {t / cnt:>8.0f} {t / span_s / 1e3:>9.1f}")
    print(f"  all: {100 * total / span_s / 1e9:.3f} % of one CPU; did not run: "
          + (" ".join(name for t, name, cnt in rows if not cnt) or "none"))
    print(f"  vmmemtop's own CPU (/proc/PID/schedstat) over the same span: "
          f"{100 * int(topcpu) / int(span):.2f} % of one CPU")

    m, lo, hi = verdict
    print(f"\nbench syscall: host-wide getppid() with vmmemtop running in its default mode (pinned): "
          f"{m:.3f}x (95% {lo:.3f}-{hi:.3f}): {'met' if m <= GOAL else 'NOT met'} (goal <= {GOAL})"
          + ("; the interval is wide: the machine is noisy" if hi - lo > 0.03 else ""))


if __name__ == '__main__':
    main()
