#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every source file names its license in an SPDX line, the one LICENSE gives its directory
# (kmod/, bpf/, *.bpf.c, Kbuild: GPL-2.0; the ABI header: GPL-2.0 WITH Linux-syscall-note;
# the rest: MIT). Oracle: tests/spdx.py's rules over `git ls-files`. ~1 s.
. "$(dirname "$0")/lib.sh"
cd "$TOPDIR"
command -v git > /dev/null && git rev-parse --git-dir > /dev/null 2>&1 || skip "not a git checkout"
out=$(python3 tests/spdx.py) || fail "$out (python3 tests/spdx.py --fix adds the missing lines)"
echo "$out" | tail -1
echo "PASS"
