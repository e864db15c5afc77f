#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every source file names its license in an SPDX line (LICENSE says which directory has
which). `tests/spdx.py` lists the files that lack it or name another; `--fix` adds it.
Data (JSON, expectations, fuzz corpora), README and the license texts are not sources."""
import os, subprocess, sys

# the kernel's own spelling (GPL-2.0 is GPL-2.0-only); the ABI header carries the syscall note
UAPI = "GPL-2.0 WITH Linux-syscall-note"
GPL = "GPL-2.0"


def license_of(path):
    if path.startswith("kmod/uapi/"):
        return UAPI
    if path.startswith(("kmod/", "bpf/")) or path == "Kbuild" or path.endswith(".bpf.c"):
        return GPL  # the kernel module and BPF programs (GPL-only helpers)
    return "MIT"


def style(path, first):
    """(prefix, suffix, after_shebang) of the comment this file's language takes, or None"""
    base = os.path.basename(path)
    if path.endswith(".c"):
        return ("// ", "", False)
    if path.endswith(".h"):
        return ("/* ", " */", False)
    if path.endswith(".8"):
        return ('.\\" ', "", False)
    if first.startswith("#!"):
        return ("# ", "", True)
    if path.endswith((".sh", ".py", ".service", ".rules", ".conf", ".yml", ".in")) or \
            base in ("Makefile", "Kbuild") or path.startswith("deploy/bash-completion/"):
        return ("# ", "", False)
    return None


def files():
    out = subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=True).stdout
    for p in out.split("\n"):
        if not p or p.startswith("tests/fuzz/corpus/") or p.startswith("deploy/licenses/"):
            continue
        if p.endswith((".json", ".expect", ".err", ".jq", ".md", ".txt")) or p in ("LICENSE", ".gitignore"):
            continue
        if not os.path.isfile(p):
            continue
        with open(p, "rb") as f:
            head = f.read(4096)
        if b"\0" in head:
            continue
        first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
        st = style(p, first)
        if st:
            yield p, st


def main():
    fix = "--fix" in sys.argv
    bad = 0
    n = 0
    for p, (pre, suf, after_shebang) in files():
        n += 1
        want = f"{pre}SPDX-License-Identifier: {license_of(p)}{suf}"
        with open(p, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().split("\n")
        head = lines[:2]
        if want in head:
            continue
        if any("SPDX-License-Identifier" in l for l in head):
            print(f"{p}: wrong SPDX line (want '{want}')")
            bad += 1
            continue
        if not fix:
            print(f"{p}: no SPDX line (want '{want}')")
            bad += 1
            continue
        at = 1 if after_shebang else 0
        lines.insert(at, want)
        with open(p, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write("\n".join(lines))
    print(f"spdx: {n} source files, {bad} without the right SPDX line")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
