# SPDX-License-Identifier: MIT
"""The IPI and flush cost bench's figures (tests/bench/ipi_flush_bench.sh) from the nested
guest's console: per program, ns per run beside the empty program on the same hook and runs
per event (bpf_stats over the S units); the added ns per IPI and per flush; and the A/B ratio
of the IPI round trip and of the discard (the flush's own path), adjacent pairs, median with
IQR and a 95 % interval of the median.
usage: ipi_flush_stats.py CONSOLE HOOKS N K
  HOOKS: "program-name section" lines of vmmem's object and of the empty baseline's"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from syscall_stats import summary  # noqa: E402

# the hooks of the flush path (bpf/tlb.bpf.c, bpf/evict.bpf.c): KVM's remote flush, the MMU
# notifier that leads to it, and the host TLB flush of the mm
FLUSH_HOOKS = ('fentry/kvm_flush_remote_tlbs', 'fentry/kvm_mmu_notifier_invalidate_range_start',
               'fexit/kvm_mmu_notifier_invalidate_range_start', 'fentry/flush_tlb_mm_range',
               'fexit/flush_tlb_mm_range', 'tp_btf/tlb_flush')


def hook_key(sec):
    """one spelling per hook: libbpf's tracepoint/ and tp/ are the same"""
    for a, b in (('tracepoint/', 'tp/'), ('raw_tracepoint/', 'raw_tp/')):
        if sec.startswith(a):
            return b + sec[len(a):]
    return sec


def main():
    console, hooks_file, n, k = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    sections = {}
    for line in open(hooks_file):
        name, sec = line.split()
        sections[name] = hook_key(sec)

    def hook_of(name):
        # the kernel keeps 15 characters of a name; bpftool shows the whole one from BTF
        if name in sections:
            return sections[name]
        c = {s for nm, s in sections.items() if len(name) == 15 and nm.startswith(name)}
        return c.pop() if len(c) == 1 else '?'

    units, stats, held = {}, {}, set()
    for line in open(console, errors='replace'):
        f = line.rstrip('\r\n').split(' ', 3)
        if f[0] == 'UNIT':
            w = line.split()
            units.setdefault(w[1], []).append((w[3], int(w[4]), float(w[5]),
                                               int(w[6].split('=')[1]) if len(w) > 6 else None))
        elif f[0] == 'STATS' and len(f) == 4:
            stats[(f[1], f[2])] = {p['id']: p for p in json.loads(f[3])}
        elif f[0] == 'HOOKS':
            held = {int(h.split(':')[1]) for h in line.split()[2:]}

    per = {'ipi': n, 'flush': k, 'kmod': n}
    what = {'ipi': 'IPI round trip', 'flush': 'discard (madvise + KVM zap + flush)', 'kmod': 'IPI round trip'}
    base = {}
    for kind in ('ipi', 'flush', 'kmod'):
        u = units.get(kind)
        if not u:
            continue
        x = 'K' if kind == 'kmod' else 'H'
        who = 'vmmem.ko loaded' if kind == 'kmod' else "vmmem's BPF hooks attached"
        ns = {st: sorted(v / per[kind] for s, p, v, fl in u if s == st) for st in ('A', x)}
        r = []
        for p in sorted({p for s, p, v, fl in u if s == x}):
            a = [v for s, q, v, fl in u if s == 'A' and q == p]
            h = [v for s, q, v, fl in u if s == x and q == p]
            r += [hv / av for hv, av in zip(h, a)]
        if not r:
            continue
        m, q1, q3, lo, hi = summary(r)
        med = {st: summary(v)[0] for st, v in ns.items() if v}
        base[kind] = med.get('A')
        print(f"\n{kind}: {what[kind]}, ns per {'page' if kind == 'flush' else 'IPI'} (median of "
              f"{len(ns['A'])} blocks each): none attached (A) {med.get('A', 0):.0f}, {who} ({x}) {med.get(x, 0):.0f}")
        print(f"  {x}/A over {len(r)} adjacent pairs: {m:.3f}x  IQR {q1:.3f}-{q3:.3f}  95% {lo:.3f}-{hi:.3f}")
        if kind == 'flush':
            fl = [f for s, p, v, f in u if f is not None and s in ('A', 'H')]
            print(f"  KVM remote flushes per block (debugfs remote_tlb_flush_requests): {min(fl)}-{max(fl)}"
                  f" for {k} discarded pages")

    for kind in ('ipi', 'flush'):
        s0, s1 = stats.get((kind, '0')), stats.get((kind, '1'))
        if not s0 or not s1:
            continue
        rows = []
        for pid, p in s1.items():
            q = s0.get(pid, {'run_cnt': 0, 'run_time_ns': 0})
            runs, t = p['run_cnt'] - q['run_cnt'], p['run_time_ns'] - q['run_time_ns']
            if runs > 0:
                rows.append((p['name'], hook_of(p['name']), runs, t, pid in held))
        empty = {h: (r, t) for name, h, r, t, mine in rows if name.startswith('empty_')}
        if kind == 'ipi':
            events = n * len([1 for s, p, v, fl in units.get(kind, []) if s == 'S'])
            oracle = empty.get('tp_btf/kvm_apic_ipi', (0, 0))[0]
            label = 'IPI'
            print(f"\nipi: bpf_stats over {events} IPIs (the runner sent them; kvm_apic_ipi fired "
                  f"{oracle} times, the empty program's count)")
        else:
            events = sum(fl for s, p, v, fl in units.get(kind, []) if s == 'S')
            oracle = empty.get('fentry/kvm_flush_remote_tlbs', (0, 0))[0]
            label = 'flush'
            print(f"\nflush: bpf_stats over {events} KVM remote flushes (debugfs remote_tlb_flush_requests; "
                  f"kvm_flush_remote_tlbs fired {oracle} times, the empty program's count)")
        if not events:
            continue
        print(f"  {'program':<28} {'hook':<46} {'runs/' + label:>10} {'ns/run':>9} {'empty ns':>9} {'ratio':>6} {'ns/' + label:>9}")
        total = path = 0.0
        for name, h, runs, t, mine in sorted(rows, key=lambda r: -r[3]):
            if not mine:
                continue
            e = empty.get(h)
            ens = e[1] / e[0] if e else None
            add = t / events
            total += add
            if kind == 'ipi' or h in FLUSH_HOOKS:
                path += add
            print(f"  {name:<28} {h:<46} {runs / events:>10.2f} {t / runs:>9.0f} "
                  f"{(f'{ens:.0f}' if ens else '-'):>9} {(f'{t / runs / ens:.2f}' if ens else '-'):>6} {add:>9.0f}")
        if kind == 'flush':
            print(f"  added ns per flush, the flush-path programs ({', '.join(FLUSH_HOOKS)}): {path:.0f}")
        print(f"  added ns per {label}, every vmmem program that ran: {total:.0f}"
              + (f" = {total / base[kind] * 100:.2f} % of the {label == 'IPI' and 'IPI round trip' or 'discard'} "
                 f"measured with none attached ({base[kind]:.0f} ns)" if base.get(kind) else ''))


if __name__ == '__main__':
    main()
