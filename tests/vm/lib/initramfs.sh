# Builds a busybox initramfs for the QEMU rigs (sourced).
#   guest_kernel            -> path of the newest /boot/vmlinuz-6.1* (Debian's linux-image-amd64)
#   guest_kver              -> its release, e.g. 6.1.0-56-amd64
#   build_initramfs OUT INIT "mod1 mod2 ..." [SRC:DST ...]
#       OUT: cpio.gz to write (rebuilt only when an input changed); INIT: the /init script;
#       modules by name, with their dependencies from modules.dep, loaded in dependency order
#       by the init (it reads /etc/modules.order); SRC:DST extra files (binaries get their
#       shared libraries copied too).
guest_kernel() { ls /boot/vmlinuz-6.1* 2>/dev/null | sort -V | tail -n 1; }
guest_kver() { basename "$(guest_kernel)" | sed 's/^vmlinuz-//'; }

# guest_kmod: build $TOPDIR/vmmem.ko against the guest kernel's headers (linux-headers-amd64),
# W=1 and warning-free; SKIP without the headers, FAIL otherwise (uses lib.sh's skip/fail, $TMP)
guest_kmod() {
	local kdir=/lib/modules/$(guest_kver)/build
	[ -d "$kdir" ] || skip "no $kdir (linux-headers-amd64 of the guest kernel)"
	make -s -C "$TOPDIR" kmod KDIR="$kdir" > "$TMP/kbuild.log" 2>&1 || { cat "$TMP/kbuild.log"; fail "vmmem.ko does not build"; }
	grep -iE "warning|error" "$TMP/kbuild.log" && fail "vmmem.ko builds with warnings (W=1)"
	return 0
}

# _mod_deps KVER NAME: relative module paths in load order (dependencies first)
_mod_deps() {
	local dep=/lib/modules/$1/modules.dep path line deps d
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
	local kver root stamp m p order f
	kver=$(guest_kver)
	[ -n "$kver" ] || { echo "initramfs: no /boot/vmlinuz-6.1* (apt-get install linux-image-amd64)" >&2; return 1; }
	stamp=$( { echo "$kver $mods $*"; cat "$init" "$BASH_SOURCE"; for f in "$@"; do stat -c '%Y %s' "${f%%:*}"; done; } | md5sum | cut -c1-16)
	[ -s "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ] && return 0
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
		for p in $(_mod_deps "$kver" "$m") ; do
			[[ " ${order[*]} " == *" $p "* ]] && continue
			order+=("$p")
		done
	done
	for p in "${order[@]}"; do
		f=/lib/modules/$kver/$p
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
	mkdir -p "$(dirname "$out")"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp" && mv "$out.tmp" "$out"
	echo "$stamp" > "$out.stamp"
	rm -rf "$root"
}
