#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds and runs the history benchmark (tests/bench/history_bench.c).
set -eu
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# shellcheck disable=SC2046
cc -O2 -std=gnu11 -D_GNU_SOURCE $(for d in user/*/; do printf -- "-I%s " "$d"; done) -Ikmod/uapi -Ibuild tests/bench/history_bench.c user/core/history.c -o "$out/hb" -lm
"$out/hb"
