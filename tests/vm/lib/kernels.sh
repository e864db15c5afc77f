# SPDX-License-Identifier: MIT
# The guest kernels the QEMU rigs boot, and how to get them (sourced). THE kernel list:
#   GUEST_KERNELS="5.10 6.1 6.12"
#     5.10  Debian 11 bullseye's linux-image-5.10.0-NN-amd64 (no module BTF, no KSM tracepoints)
#     6.1   the host's own linux-image-amd64 / linux-headers-amd64 (Debian 12 bookworm)
#     6.12  bookworm-backports' linux-image-6.12.NN+deb12-amd64 (module BTF, KSM tracepoints, DAMON)
# 5.10 and 6.12 are fetched once per machine from the archive the host's apt sources name,
# through a private apt list/state/cache (the host's apt configuration is never touched),
# unpacked with dpkg -x (image and headers) under $KERNEL_CACHE/<release>/ and shared by every
# worktree and CI run on the machine; a fresh machine fetches them on first use.
#
# API (VER is one of GUEST_KERNELS; without VER, $GUEST_VER, default 6.1):
#   guest_use VER          the kernel later calls default to (build_initramfs, vm_start, guest_kmod)
#   kernel_fetch VER       make sure VER is here (downloads and unpacks it if not); 0 or 1 + reason
#   guest_kernel [VER]     path of its vmlinuz            (empty if not fetched)
#   guest_kver [VER]       its release, e.g. 6.12.48+deb12-amd64
#   guest_moddir [VER]     its /lib/modules/<release> (with modules.dep; .ko, .ko.xz or .ko.zst:
#                          build_initramfs unpacks compressed ones, busybox insmod cannot)
#   guest_kdir [VER]       its headers' build directory (for make kmod KDIR=)
#   guest_kmod [VER]       build vmmem.ko against VER's headers into build/kmod/<release>/ and set
#                          GUEST_KO to its path (reused while sources, headers and gcc are
#                          unchanged); skips without headers, fails on any warning
#                          (needs lib.sh's skip/fail, $TMP, $TOPDIR)
# Booting a chosen kernel: `guest_use 6.12; build_initramfs ...; vm_start ...` (qemu.sh), or
# GUEST_VER=6.12 in the environment of a rig.
GUEST_KERNELS="5.10 6.1 6.12"
GUEST_VER=${GUEST_VER:-6.1}
KERNEL_CACHE=${KERNEL_CACHE:-/var/cache/vmmem/kernels}

guest_use() { GUEST_VER=$1; }

# _kernel_suite VER: the Debian suite VER comes from ("host": the installed linux-image-amd64)
_kernel_suite() {
	case $1 in
	5.10) echo bullseye ;;
	6.1) echo host ;;
	6.12) echo bookworm-backports ;;
	*) echo "kernels: unknown guest kernel '$1' (known: $GUEST_KERNELS)" >&2; return 1 ;;
	esac
}

guest_kver() {
	local v=${1:-$GUEST_VER}
	case $(_kernel_suite "$v") in
	host) ls /boot/vmlinuz-6.1.* 2>/dev/null | sort -V | tail -n 1 | sed 's|^/boot/vmlinuz-||' ;;
	"") return 1 ;;
	*) cat "$KERNEL_CACHE/$v.release" 2>/dev/null ;;
	esac
}

# _kernel_root VER: the root the kernel's files are under ("" for the host's own)
_kernel_root() {
	[ "$(_kernel_suite "${1:-$GUEST_VER}")" = host ] && return 0
	echo "$KERNEL_CACHE/$(guest_kver "$1")"
}

guest_kernel() {
	local r; r=$(guest_kver "${1:-$GUEST_VER}")
	[ -n "$r" ] && [ -e "$(_kernel_root "${1:-$GUEST_VER}")/boot/vmlinuz-$r" ] &&
		echo "$(_kernel_root "${1:-$GUEST_VER}")/boot/vmlinuz-$r"
}

guest_moddir() { echo "$(_kernel_root "${1:-$GUEST_VER}")/lib/modules/$(guest_kver "${1:-$GUEST_VER}")"; }

guest_kdir() {
	local v=${1:-$GUEST_VER}
	if [ "$(_kernel_suite "$v")" = host ]; then
		echo "/lib/modules/$(guest_kver "$v")/build"
	else
		echo "$(_kernel_root "$v")/usr/src/linux-headers-$(guest_kver "$v")"
	fi
}

# _apt_mirror: the Debian archive URI of the host's own sources (deb822 or one-line format)
_apt_mirror() {
	{ grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{ for (i = 2; i <= NF; i++) print $i }'
	  grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{ print ($2 ~ /^\[/ ? $3 : $2) }'
	} | grep -E '/debian/?$' | head -n 1
}

# _apt SUITE ARGS...: apt-get/apt-cache on a private list, state and cache for SUITE only
_apt() {
	local suite=$1 tool=$2; shift 2
	local d=$KERNEL_CACHE/apt/$suite
	"$tool" -q -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
		-o Dir::State::Lists="$d/lists" -o Dir::State::status="$d/status" -o Dir::Cache="$d/cache" \
		-o APT::Sandbox::User=root -o Acquire::Languages=none "$@"
}

# _deb_depends SUITE PKG: the package names PKG depends on
_deb_depends() {
	_apt "$1" apt-cache show --no-all-versions "$2" | sed -n 's/^Depends: //p' | head -n 1 |
		tr ',' '\n' | sed -E 's/^ *//; s/[ (|].*//'
}

# _headers_relocate TREE ROOT: Debian's headers include their -common half by absolute path
# (/usr/src/linux-headers-R-amd64/Makefile: "include /usr/src/linux-headers-R-common/Makefile"):
# point it into ROOT, where TREE will be
_headers_relocate() {
	local m
	for m in "$1"/usr/src/linux-headers-*/Makefile; do
		[ -e "$m" ] || continue
		sed -i "s|^include /usr/src/|include $2/usr/src/|" "$m" || return 1
	done
}

kernel_fetch() {
	local v=${1:-$GUEST_VER} suite mirror d img rel pkgs p hdr
	suite=$(_kernel_suite "$v") || return 1
	if [ "$suite" = host ]; then
		[ -n "$(guest_kernel "$v")" ] || { echo "kernels: no /boot/vmlinuz-6.1* (apt-get install linux-image-amd64)" >&2; return 1; }
		return 0
	fi
	[ -n "$(guest_kernel "$v")" ] && [ -d "$(guest_kdir "$v")" ] && return 0
	mkdir -p "$KERNEL_CACHE" || return 1
	(
	flock 9
	[ -n "$(guest_kernel "$v")" ] && [ -d "$(guest_kdir "$v")" ] && exit 0
	mirror=$(_apt_mirror)
	[ -n "$mirror" ] || { echo "kernels: no Debian archive URI in the host's apt sources" >&2; exit 1; }
	d=$KERNEL_CACHE/apt/$suite
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/debs"
	: > "$d/status"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" > "$d/sources.list"
	echo "kernels: fetching $v from $mirror $suite" >&2
	_apt "$suite" apt-get update > "$d/update.log" 2>&1 || { cat "$d/update.log" >&2; exit 1; }
	img=$(_deb_depends "$suite" linux-image-amd64 | grep -E '^linux-image-[0-9]' | head -n 1)
	rel=${img#linux-image-}
	[ -n "$img" ] || { echo "kernels: no linux-image-amd64 in $suite" >&2; exit 1; }
	hdr=linux-headers-$rel
	pkgs="$img $hdr $(_deb_depends "$suite" "$hdr" | grep -E '^linux-(headers|kbuild)-')"
	rm -f "$d/debs"/*.deb
	(cd "$d/debs" && _apt "$suite" apt-get download $pkgs) > "$d/download.log" 2>&1 ||
		{ cat "$d/download.log" >&2; exit 1; }
	rm -rf "$KERNEL_CACHE/$rel.tmp"
	mkdir -p "$KERNEL_CACHE/$rel.tmp"
	for p in "$d/debs"/*.deb; do dpkg -x "$p" "$KERNEL_CACHE/$rel.tmp" || exit 1; done
	# the image's postinst would run depmod: the rigs read modules.dep
	depmod -b "$KERNEL_CACHE/$rel.tmp" "$rel" || exit 1
	_headers_relocate "$KERNEL_CACHE/$rel.tmp" "$KERNEL_CACHE/$rel" || exit 1
	rm -rf "${KERNEL_CACHE:?}/$rel"
	mv "$KERNEL_CACHE/$rel.tmp" "$KERNEL_CACHE/$rel"
	echo "$rel" > "$KERNEL_CACHE/$v.release"
	rm -f "$d/debs"/*.deb
	echo "kernels: $v is $rel, in $KERNEL_CACHE/$rel" >&2
	) 9> "$KERNEL_CACHE/.lock"
}

# guest_kmod [VER]: vmmem.ko built (W=1, warning-free) against VER's headers, in its own
# directory per release so rigs for several kernels do not overwrite each other's module
guest_kmod() {
	local v=${1:-$GUEST_VER} kdir rel out stamp _kmod_lock
	kernel_fetch "$v" || fail "cannot fetch guest kernel $v"
	kdir=$(guest_kdir "$v") rel=$(guest_kver "$v")
	[ -d "$kdir" ] || skip "no $kdir (headers of guest kernel $v)"
	out=$TOPDIR/build/kmod/$rel
	# built already, warning-free, from these very sources, headers and compiler (make test
	# boots each kernel in several rigs: each build costs 8-10 s on a loaded machine)
	stamp=$( { echo "$rel $kdir"; gcc --version | head -n 1; cat "$TOPDIR/Kbuild";
		   find "$TOPDIR/kmod" -type f | LC_ALL=C sort | xargs cat; } | md5sum | cut -c1-16)
	# tests/run.sh runs two rigs at once: one builds, the other waits and reuses it (the
	# lock goes with this shell's fd, also when fail/skip exit)
	mkdir -p "$out"
	exec {_kmod_lock}> "$out.lock"
	flock "$_kmod_lock"
	if [ -s "$out/vmmem.ko" ] && [ "$(cat "$out/vmmem.ko.stamp" 2>/dev/null)" = "$stamp" ]; then
		exec {_kmod_lock}>&-
		GUEST_KO=$out/vmmem.ko
		return 0
	fi
	rm -f "$out/vmmem.ko.stamp"
	# kbuild writes into the source directory (M=): build a copy of the module's sources
	mkdir -p "$out/kmod"
	cp "$TOPDIR/Kbuild" "$out/" && cp -r "$TOPDIR"/kmod/* "$out/kmod/" || fail "cannot copy the module's sources"
	# Debian's headers name the compiler the kernel was built with (bullseye: gcc-10); use this
	# machine's gcc
	make -s -C "$kdir" M="$out" W=1 CC=gcc modules > "$TMP/kbuild-$rel.log" 2>&1 ||
		{ cat "$TMP/kbuild-$rel.log" >&2; fail "vmmem.ko does not build against $rel"; }
	grep -iE "warning|error" "$TMP/kbuild-$rel.log" >&2 && fail "vmmem.ko builds with warnings (W=1) against $rel"
	echo "$stamp" > "$out/vmmem.ko.stamp"
	exec {_kmod_lock}>&-
	GUEST_KO=$out/vmmem.ko
}
