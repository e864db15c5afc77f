#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The one-way rule of user/ (README "Architecture"): a file includes headers of its own folder
# and of folders below it, never above:
#   cmd → view, record → core → advise → source → model → facts → kmod/uapi
# Prints every include that goes up or sideways and exits 1 if there is one.
set -u
cd "$(dirname "$0")/.."
declare -A rank=([cmd]=0 [view]=1 [record]=1 [core]=2 [advise]=3 [source]=4 [model]=5 [facts]=6)
declare -A home=()
for h in user/*/*.h; do
	d=${h#user/}; home[$(basename "$h")]=${d%%/*}
done
bad=0 files=0
for f in user/*/*.[ch]; do
	d=${f#user/}; d=${d%%/*}
	[ -n "${rank[$d]:-}" ] || { echo "layers: $f: folder '$d' is not a layer (Makefile USER_DIRS)"; bad=1; continue; }
	files=$((files + 1))
	while read -r inc; do
		to=${home[$inc]:-}
		[ -n "$to" ] || continue		# kmod/uapi, the skeleton, system headers
		[ "$to" = "$d" ] && continue
		if [ "${rank[$to]}" -le "${rank[$d]}" ]; then
			echo "layers: $f ($d) includes $inc ($to): $to is not below $d"
			bad=1
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done
[ "$bad" = 0 ] && echo "layers: $files files in ${#rank[@]} folders, every include goes down"
exit "$bad"
