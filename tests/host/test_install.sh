#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make install / uninstall into a DESTDIR, and the packaging knobs. Oracles: the expected file
# list below, man's own warnings, systemd-analyze and systemd-sysusers on the staged tree,
# dkms building the staged module source for the 6.1 headers, readelf for LDFLAGS (-z now),
# and a build from a named BTF file in a separate build directory.
. "$(dirname "$0")/lib.sh"
make_tmp
ok=1
bad() { echo "FAIL: $*"; ok=0; }
cd "$TOPDIR"
D=$TMP/root
rel=$(sed -n 's/^RELEASE *:= *//p' Makefile)

make -s install DESTDIR="$D" PREFIX=/usr > "$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; fail "make install"; }
(cd "$D" && find . -type f | sed 's|^\./|/|' | sort) > "$TMP/files"
cat > "$TMP/want" <<LIST
/usr/bin/vmmemtop
/usr/lib/systemd/system/vmmem-exporter.service
/usr/lib/sysusers.d/vmmem.conf
/usr/lib/udev/rules.d/60-vmmem.rules
/usr/share/bash-completion/completions/vmmemtop
/usr/share/doc/vmmem/GPL-2.0-only.txt
/usr/share/doc/vmmem/LICENSE
/usr/share/doc/vmmem/MIT.txt
/usr/share/doc/vmmem/README.md
/usr/share/man/man8/vmmemtop.8
/usr/share/vmmem/grafana/vmmem.json
/usr/share/vmmem/prometheus/vmmem.rules.yml
/usr/src/vmmem-$rel/Kbuild
/usr/src/vmmem-$rel/dkms.conf
$(ls kmod/*.c kmod/*.h | sed "s|^|/usr/src/vmmem-$rel/|")
$(ls kmod/uapi/*.h | sed "s|^|/usr/src/vmmem-$rel/|")
LIST
sort -o "$TMP/want" "$TMP/want"
diff "$TMP/want" "$TMP/files" > "$TMP/diff" || bad "installed files differ from the list (< missing, > extra): $(cat "$TMP/diff")"
echo "installed $(wc -l < "$TMP/files") files under DESTDIR (expected $(wc -l < "$TMP/want"))"

# the binary runs from where it went; the unit points there
"$D/usr/bin/vmmemtop" --version | grep -q '^vmmemtop ' || bad "installed binary does not run"
grep -q '^ExecStart=/usr/bin/vmmemtop ' "$D/usr/lib/systemd/system/vmmem-exporter.service" ||
	bad "unit does not start /usr/bin/vmmemtop: $(grep ^ExecStart "$D/usr/lib/systemd/system/vmmem-exporter.service")"
# systemd-analyze checks the unit offline; it needs ExecStart to exist, so the staged copy
# is checked with the staged binary's path put back in
sed "s|/usr/bin/vmmemtop|$D/usr/bin/vmmemtop|" "$D/usr/lib/systemd/system/vmmem-exporter.service" > "$TMP/vmmem-exporter.service"
systemd-analyze verify --man=no "$TMP/vmmem-exporter.service" > "$TMP/verify" 2>&1 ||
	bad "systemd-analyze verify: $(cat "$TMP/verify")"
# sysusers creates the group in a scratch root; the udev rule names that group
mkdir -p "$D/etc" && : > "$D/etc/group" && : > "$D/etc/passwd"
systemd-sysusers --root="$D" > "$TMP/sysusers" 2>&1 || bad "systemd-sysusers: $(cat "$TMP/sysusers")"
grep -q '^vmmem:' "$D/etc/group" || bad "sysusers.d did not create group vmmem: $(cat "$D/etc/group")"
grep -q 'KERNEL=="vmmem".*GROUP="vmmem"' "$D/usr/lib/udev/rules.d/60-vmmem.rules" || bad "udev rule does not give /dev/vmmem to vmmem"
rm -rf "$D/etc"

# the man page renders without a warning at 80 columns
MANWIDTH=80 man --warnings -l "$D/usr/share/man/man8/vmmemtop.8" > "$TMP/man.txt" 2> "$TMP/man.err"
[ -s "$TMP/man.err" ] && bad "man warnings: $(cat "$TMP/man.err")"
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "EXIT STATUS" FILES EXAMPLES; do
	grep -q "^$s" "$TMP/man.txt" || bad "man page has no $s section"
done
echo "man page: $(wc -l < "$TMP/man.txt") lines at 80 columns, $(wc -l < "$TMP/man.err") warnings"

# bash completion: the command list, and options taken from the installed binary's --help
compl() { ( PATH="$D/usr/bin:$PATH"; . "$D/usr/share/bash-completion/completions/vmmemtop"
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vmmemtop; echo "${COMPREPLY[*]}" ); }
[ "$(compl vmmemtop sn)" = snapshot ] || bad "completion of 'sn': [$(compl vmmemtop sn)]"
[[ " $(compl vmmemtop export --li) " == *" --listen "* ]] || bad "completion of 'export --li': [$(compl vmmemtop export --li)]"
[[ " $(compl vmmemtop advise --ch) " == *" --check "* ]] || bad "completion of 'advise --ch': [$(compl vmmemtop advise --ch)]"
[ "$(compl vmmemtop -B a)" = auto ] || bad "completion of '-B a': [$(compl vmmemtop -B a)]"

# DKMS builds the staged module source for the guest kernel's headers (not installed anywhere)
kver=$(ls -d /lib/modules/*/build 2>/dev/null | sed 's|/lib/modules/||;s|/build||' | sort -V | tail -1)
if ! command -v dkms > /dev/null; then
	bad "dkms is not installed (tests/deps.sh installs it)"
elif [ -z "$kver" ]; then
	bad "no kernel headers under /lib/modules (tests/deps.sh installs linux-headers-amd64)"
else
	mkdir -p "$TMP/dkmstree"
	if dkms build -m vmmem -v "$rel" -k "$kver" --sourcetree "$D/usr/src" --dkmstree "$TMP/dkmstree" \
		> "$TMP/dkms.log" 2>&1 && ko=$(find "$TMP/dkmstree" -name vmmem.ko | head -1) && [ -n "$ko" ]; then
		echo "dkms built $(modinfo -F vermagic "$ko" | cut -d' ' -f1) vmmem.ko from the installed source"
		[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$kver" ] || bad "dkms module vermagic is not $kver"
	else
		bad "dkms build for $kver: $(tail -20 "$TMP/dkms.log")"
	fi
fi

# uninstall leaves no file behind (directories the package manager owns may stay)
make -s uninstall DESTDIR="$D" PREFIX=/usr > /dev/null 2>&1 || bad "make uninstall failed"
left=$(cd "$D" && find . -type f)
[ -z "$left" ] || bad "uninstall left: $left"

# LDFLAGS reach the link and CFLAGS replace only the optimisation; vmlinux.h from a named BTF file
cp /sys/kernel/btf/vmlinux "$TMP/vmlinux.btf"
make -s BUILD="$TMP/build" VMLINUX_BTF="$TMP/vmlinux.btf" CFLAGS="-O1 -g0" LDFLAGS="-Wl,-z,now -Wl,-z,relro" \
	"$TMP/build/vmmemtop" > "$TMP/build.log" 2>&1 || bad "build with VMLINUX_BTF, CFLAGS, LDFLAGS: $(tail -5 "$TMP/build.log")"
if [ -x "$TMP/build/vmmemtop" ]; then
	readelf -d "$TMP/build/vmmemtop" | grep -qE 'BIND_NOW|FLAGS.*NOW' || bad "LDFLAGS -z now did not reach the link"
	readelf -S "$TMP/build/vmmemtop" | grep -q debug_info && bad "CFLAGS -g0 did not reach the compiler"
	"$TMP/build/vmmemtop" --version > /dev/null || bad "the CFLAGS/LDFLAGS build does not run"
	echo "build with VMLINUX_BTF=<copy of the BTF>, CFLAGS=-O1 -g0, LDFLAGS=-z now: BIND_NOW set, no debug info"
fi
make -s BUILD="$TMP/build2" VMLINUX_BTF=/nonexistent/vmlinux "$TMP/build2/vmlinux.h" > /dev/null 2> "$TMP/btf.err" &&
	bad "a missing VMLINUX_BTF did not fail"
grep -q 'VMLINUX_BTF=' "$TMP/btf.err" || bad "a missing VMLINUX_BTF does not say what to pass: $(cat "$TMP/btf.err")"

# make run installs only what running needs: every library the build links (pkg-config
# modules) comes from a package of `tests/deps.sh run`, as do the compilers; and no kernel image,
# QEMU, Prometheus or bpftrace is among them (oracle: dpkg -S on each module's .pc file)
run_pkgs=" $(bash tests/deps.sh run --list | xargs) "
for m in $(make -s print-PKGS); do
	pc=$(pkg-config --path "$m") || { bad "pkg-config knows no $m"; continue; }
	pkg=$(dpkg -S "$pc" 2>/dev/null | head -1 | cut -d: -f1)
	[[ "$run_pkgs" == *" $pkg "* ]] || bad "the build links $m ($pc, package $pkg), which 'tests/deps.sh run' does not install"
done
for tool in make gcc clang bpftool pkg-config; do
	pkg=$(dpkg -S "$(readlink -f "$(command -v $tool)")" 2>/dev/null | head -1 | cut -d: -f1)
	[ -n "$pkg" ] || continue
	[[ "$run_pkgs" == *" $pkg "* ]] || [[ "$run_pkgs" == *" $tool "* ]] || bad "$tool (package $pkg) is not in 'tests/deps.sh run'"
done
for p in $run_pkgs; do
	case $p in linux-image*|qemu*|prometheus*|bpftrace|busybox*) bad "'tests/deps.sh run' installs the test-only $p" ;; esac
done
echo "make run's packages ($(wc -w <<< "$run_pkgs")): every linked library ($(make -s print-PKGS | wc -w) pkg-config modules) and compiler among them; no kernel image, QEMU, Prometheus, bpftrace"

[ $ok = 1 ] || exit 1
echo "PASS"
