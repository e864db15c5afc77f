# SPDX-License-Identifier: MIT
# Builds a busybox initramfs for the QEMU rigs (sourced).
#   (guest_kernel, guest_kver, guest_moddir, guest_kmod: kernels.sh, sourced here; the initramfs
#   is for the kernel of $GUEST_VER: guest_use VER first to build one for another kernel)
#   build_initramfs OUT INIT "mod1 mod2 ..." [SRC:DST ...]
#       OUT: cpio.gz to write (rebuilt only when an input changed); INIT: the /init script;
#       modules by name, with their dependencies from modules.dep, loaded in dependency order
#       by the init (it reads /etc/modules.order; compressed modules are stored unpacked, as
#       busybox insmod needs them); SRC:DST extra files (binaries get their shared libraries
#       copied too). Every initramfs holds /lib/kvm-guest-lib.sh (tests/vm/guest/), which
#       the inits source for what they share.
. "$(dirname "${BASH_SOURCE[0]}")/kernels.sh"
_GUEST_LIB=$(dirname "${BASH_SOURCE[0]}")/../guest/kvm-guest-lib.sh

# _mod_deps MODDIR NAME: relative module paths in load order (dependencies first)
_mod_deps() {
	local dep=$1/modules.dep path line deps d
	path=$(grep -E "(^|/)$2\.ko(\.[a-z]+)?:" "$dep" | head -n 1 | cut -d: -f1)
	[ -n "$path" ] || { echo "initramfs: module $2 not found in $dep" >&2; return 1; }
	line=$(grep -E "^$path:" "$dep")
	deps=${line#*:}
	for d in $deps; do
		_mod_deps "$1" "$(basename "$d" | sed -E 's/\.ko(\.[a-z]+)?$//')" || return 1
	done
	echo "$path"
}

_copy_with_libs() {	# SRC DST ROOT
	install -D -m 0755 "$1" "$3/$2"
	if ldd "$1" >/dev/null 2>&1; then
		ldd "$1" | grep -oE '/[^ ]+' | while read -r lib; do
			[ -e "$3$lib" ] || install -D -m 0755 "$lib" "$3$lib"
		done
	fi
}

build_initramfs() {
	local out=$1 init=$2 mods=$3; shift 3
	local kver moddir stamp f
	kernel_fetch || return 1
	kver=$(guest_kver) moddir=$(guest_moddir)
	stamp=$( { echo "$kver $mods $*"; cat "$init" "${BASH_SOURCE[0]}" "$_GUEST_LIB"; for f in "$@"; do stat -c '%Y %s' "${f%%:*}"; done; } | md5sum | cut -c1-16)
	# tests/run.sh runs two rigs at once, and several rigs boot the same image: one builds it,
	# the other waits for it (the lock is released when this shell's fd closes)
	mkdir -p "$(dirname "$out")"
	local lock
	exec {lock}> "$out.lock"
	flock "$lock"
	if [ -s "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ]; then
		exec {lock}>&-
		return 0
	fi
	_build_initramfs "$out" "$init" "$mods" "$kver" "$moddir" "$stamp" "$@"
	local rc=$?
	exec {lock}>&-
	return $rc
}

_build_initramfs() {	# OUT INIT MODS KVER MODDIR STAMP [SRC:DST ...]
	local out=$1 init=$2 mods=$3 kver=$4 moddir=$5 stamp=$6; shift 6
	local root m p order f
	root=$(mktemp -d /tmp/vmmem-initramfs.XXXXXX)
	chmod 0755 "$root"	# the guest's / : unprivileged users must reach /bin
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,lib/modules/$kver}
	cp /bin/busybox "$root/bin/busybox"
	for p in sh ash mount umount insmod rmmod cat echo sleep grep awk sed ls mkdir kill ps \
		 poweroff reboot dmesg seq wc head tail cut tr date chmod ln cp rm sync test \[ printf \
		 timeout usleep pidof md5sum find uname; do
		ln -sf busybox "$root/bin/$p"
	done
	order=()
	for m in $mods; do
		for p in $(_mod_deps "$moddir" "$m") ; do
			[[ " ${order[*]} " == *" $p "* ]] && continue
			order+=("$p")
		done
	done
	for p in "${order[@]}"; do
		f=$moddir/$p
		mkdir -p "$root/lib/modules/$kver/$(dirname "$p")"
		case $f in
		*.xz) xz -dc "$f" > "$root/lib/modules/$kver/${p%.xz}"; p=${p%.xz} ;;
		*.zst) zstd -qdc "$f" > "$root/lib/modules/$kver/${p%.zst}"; p=${p%.zst} ;;
		*) cp "$f" "$root/lib/modules/$kver/$p" ;;
		esac
		echo "/lib/modules/$kver/$p" >> "$root/etc/modules.order"
	done
	touch "$root/etc/modules.order"
	for f in "$@"; do
		_copy_with_libs "${f%%:*}" "${f#*:}" "$root"
	done
	install -m 0755 "$init" "$root/init"
	install -m 0644 "$_GUEST_LIB" "$root/lib/kvm-guest-lib.sh"
	mkdir -p "$(dirname "$out")"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp" && mv "$out.tmp" "$out"
	echo "$stamp" > "$out.stamp"
	rm -rf "$root"
}
