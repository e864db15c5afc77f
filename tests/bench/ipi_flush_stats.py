# SPDX-License-Identifier: MIT
"""The IPI and flush cost bench's figures (tests/bench/ipi_flush_bench.sh) from the nested
guest's console: per program, ns per run beside the empty program on the same hook and runs
per event (bpf_stats over the S units); the added ns per IPI and per flush; and the A/B ratios
of adjacent units (median, IQR and a 95 % interval of the median).
usage: ipi_flush_stats.py CONSOLE HOOKS N K
  HOOKS: "program-name section" lines of vmmem's object and of the empty baseline's"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from syscall_stats import summary  # noqa: E402

# the hooks a discard's path crosses (bpf/tlb.bpf.c, bpf/evict.bpf.c, bpf/balloon.bpf.c): the
# madvise call, the MMU notifier that makes KVM zap, KVM's remote flush, the host TLB flush of
# the mm. The other programs that run in the flush units are the guest re-touching the pages
# between two rounds of discards (exits, NPT faults, hva_to_pfn), not the flush.
FLUSH_HOOKS = ('fentry/kvm_flush_remote_tlbs', 'fentry/kvm_mmu_notifier_invalidate_range_start',
               'fexit/kvm_mmu_notifier_invalidate_range_start', 'fentry/flush_tlb_mm_range',
               'fexit/flush_tlb_mm_range', 'fentry/native_flush_tlb_multi', 'tp_btf/tlb_flush')
DISCARD_HOOKS = FLUSH_HOOKS + ('fentry/__x64_sys_madvise', 'fexit/__x64_sys_madvise',
                               'fentry/do_madvise', 'fexit/do_madvise')
# the hooks an IPI's path crosses: the sender's exit (the ICR write) and kvm_apic_ipi, both
# vCPUs' entries, the receiver's exits (EOI, HLT) and its switches out to idle and back in.
# The rest that runs in the IPI units (flush_tlb_mm_range, tlb_flush, sched_process_exit) is
# the guest's other tasks: the bench's own polling forks a grep every 100 ms.
IPI_HOOKS = ('tp_btf/kvm_entry', 'tp/kvm/kvm_entry', 'tp/kvm/kvm_exit', 'tp_btf/kvm_apic_ipi',
             'tp/kvm/kvm_apic_ipi', 'tp_btf/sched_switch', 'tp/sched/sched_switch',
             'fentry/kvm_sched_in', 'fentry/kvm_sched_out')

# what each unit measures, per kind: (key, what, per event of)
METRICS = {
    'ipi': [('wall', 'IPI round trip (wall)', 'IPI'),
            ('cpu1', "receiving vCPU thread's CPU time", 'IPI'),
            ('cpu0', "sending vCPU thread's CPU time (spins until handled)", 'IPI')],
    'kmod': [('wall', 'IPI round trip (wall)', 'IPI'),
             ('cpu1', "receiving vCPU thread's CPU time", 'IPI')],
    'flush': [('wall', 'discard: madvise + KVM zap + flush', 'page')],
}


def hook_key(sec):
    """one spelling per hook: libbpf's tracepoint/ and tp/ are the same"""
    for a, b in (('tracepoint/', 'tp/'), ('raw_tracepoint/', 'raw_tp/')):
        if sec.startswith(a):
            return b + sec[len(a):]
    return sec


def parse(console):
    units, stats, held = {}, {}, set()
    for line in open(console, errors='replace'):
        w = line.split()
        if not w:
            continue
        if w[0] == 'UNIT' and len(w) > 5:
            kv = dict(x.split('=', 1) for x in w[5:] if '=' in x)
            units.setdefault(w[1], []).append((w[3], int(w[4]), {k: float(v) for k, v in kv.items()}))
        elif w[0] == 'STATS' and len(w) == 4:
            stats[(w[1], w[2])] = {p['id']: p for p in json.loads(w[3])}
        elif w[0] == 'HOOKS':
            held = {int(h.split(':')[1]) for h in w[2:]}
    return units, stats, held


def ab(units, kind, per):
    """A/B per metric; returns the median per-event value of each metric in A"""
    x = 'K' if kind == 'kmod' else 'H'
    who = 'vmmem.ko loaded' if kind == 'kmod' else "vmmem's BPF hooks attached"
    base = {}
    print(f"\n{kind}: A = nothing of vmmem's attached, {x} = {who}; adjacent pairs, the order alternating")
    for key, what, of in METRICS[kind]:
        v = {st: [m[key] / per for s, p, m in units if s == st and key in m and m[key] >= 0] for st in ('A', x)}
        r = []
        for p in sorted({p for s, p, m in units if s == x}):
            a = [m[key] for s, q, m in units if s == 'A' and q == p and key in m]
            h = [m[key] for s, q, m in units if s == x and q == p and key in m]
            r += [hv / av for hv, av in zip(h, a) if av > 0]
        if not r or not v['A'] or not v[x]:
            continue
        m, q1, q3, lo, hi = summary(r)
        base[key] = summary(v['A'])[0]
        print(f"  {what}, ns per {of}: A {base[key]:.0f}, {x} {summary(v[x])[0]:.0f} (medians);"
              f" {x}/A {m:.3f}x  IQR {q1:.3f}-{q3:.3f}  95% {lo:.3f}-{hi:.3f}  (n={len(r)})")
    return base


def costs(kind, stats, held, hook_of, events, label, base):
    s0, s1 = stats.get((kind, '0')), stats.get((kind, '1'))
    if not s0 or not s1 or not events:
        return
    rows = []
    for pid, p in s1.items():
        q = s0.get(pid, {'run_cnt': 0, 'run_time_ns': 0})
        runs, t = p['run_cnt'] - q['run_cnt'], p['run_time_ns'] - q['run_time_ns']
        if runs > 0:
            rows.append((p['name'], hook_of(p['name']), runs, t, pid in held))
    empty = {h: (r, t) for name, h, r, t, mine in rows if name.startswith('empty_') and not mine}
    print(f"  {'program':<26} {'hook':<47} {'runs/' + label:>10} {'ns/run':>7} {'empty':>6} {'ratio':>6} {'ns/' + label:>9}")
    total = path = 0.0
    for name, h, runs, t, mine in sorted(rows, key=lambda r: -r[3]):
        if not mine:
            continue
        e = empty.get(h)
        ens = e[1] / e[0] if e else None
        add = t / events
        total += add
        on_path = h in (IPI_HOOKS if kind == 'ipi' else DISCARD_HOOKS)
        path += add if on_path else 0
        print(f"  {name:<26} {h:<47} {runs / events:>10.2f} {t / runs:>7.0f} "
              f"{(f'{ens:.0f}' if ens else '-'):>6} {(f'{t / runs / ens:.2f}' if ens else '-'):>6} {add:>9.0f}"
              + ('' if on_path else '  (not the IPI: other tasks)' if kind == 'ipi' else '  (re-touch, not the discard)'))
    return rows, empty, total, path


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

    units, stats, held = parse(console)
    base = {kind: ab(units[kind], kind, n if kind != 'flush' else k) for kind in ('ipi', 'flush', 'kmod') if kind in units}

    ipis = n * len([1 for s, p, m in units.get('ipi', []) if s == 'S'])
    if ('ipi', '1') in stats:
        print(f"\nipi: bpf_stats over {ipis} IPIs (N per block); ns/run is the mean, with bpf_stats' clock reads")
        res = costs('ipi', stats, held, hook_of, ipis, 'IPI', base.get('ipi', {}))
        if res:
            rows, empty, total, path = res
            b = base.get('ipi', {})
            print(f"  kvm_apic_ipi fired {empty.get('tp_btf/kvm_apic_ipi', (0, 0))[0]} times (the empty program's runs; the runner sent {ipis})")
            print(f"  added ns per IPI, the programs on its path (both vCPUs): {path:.0f}"
                  + (f" = {path / b['wall'] * 100:.2f} % of the round trip with nothing attached ({b['wall']:.0f} ns)" if b.get('wall') else '')
                  + f"; every vmmem program that ran, / IPIs: {total:.0f}")
            if b.get('cpu1'):
                print(f"  (the receiving vCPU's own CPU time per IPI, {b['cpu1']:.0f} ns with nothing attached, is its share of the"
                      " IPI's work: the A/B above says what the hooks add to it)")
    fl_units = [m for s, p, m in units.get('flush', []) if s == 'S']
    flushes = sum(m.get('flushes', 0) for m in fl_units)
    pages = k * len(fl_units)
    if ('flush', '1') in stats and flushes:
        print(f"\nflush: bpf_stats over {len(fl_units)} units: {pages} pages discarded, {flushes:.0f} KVM remote flushes "
              f"(debugfs remote_tlb_flush_requests)")
        res = costs('flush', stats, held, hook_of, flushes, 'flush', base.get('flush', {}))
        if res:
            rows, empty, total, path = res
            fp = sum(t for name, h, r, t, mine in rows if mine and h in FLUSH_HOOKS) / flushes
            print(f"  kvm_flush_remote_tlbs fired {empty.get('fentry/kvm_flush_remote_tlbs', (0, 0))[0]} times (the empty program's runs)")
            print(f"  added ns per flush, the programs on the flush's hooks ({', '.join(sorted({h.split('/')[1] for h in FLUSH_HOOKS}))}): {fp:.0f}")
            b = base.get('flush', {}).get('wall')
            per_page = path * flushes / pages
            print(f"  added ns per discarded page, every program on its path (+ madvise): {per_page:.0f}"
                  + (f" = {per_page / b * 100:.0f} % of the discard with nothing attached ({b:.0f} ns)" if b else ''))


if __name__ == '__main__':
    main()
