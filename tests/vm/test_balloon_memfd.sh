#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The balloon rig with memfd guest RAM (-object memory-backend-memfd -machine memory-backend=m):
# QEMU 7.2's ram_block_discard_range() punches the memfd (fallocate PUNCH_HOLE) and then
# madvise(MADV_DONTNEED)s the shared mapping; vmmem must count the inflate once, equal to the
# guest's /proc/vmstat balloon_inflate x 4096. See tests/vm/test_balloon.sh.
BALLOON_MEMFD=1 exec bash "$(dirname "$0")/test_balloon.sh"
