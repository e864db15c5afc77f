# SPDX-License-Identifier: MIT
# vmmem: `make run` installs, builds and starts vmmemtop; `make test` installs, builds and
# runs every test. Everything is built under build/.

BUILD      ?= build
CC         ?= gcc
CLANG      ?= clang
BPFTOOL    ?= bpftool
PKG_CONFIG ?= pkg-config
ARCH       := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION    := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
# the DKMS package version (a plain number: dkms names /usr/src/vmmem-$(RELEASE) after it)
RELEASE    := 0.1

# CFLAGS, CPPFLAGS and LDFLAGS are the builder's (e.g. dpkg-buildflags): the project's own
# flags live apart, so `make CFLAGS=-O3` replaces the optimisation, not -std or -D_GNU_SOURCE.
WERROR     ?= $(if $(CI),-Werror,)
CFLAGS     ?= -O2 -g
# user/ libraries, found through pkg-config (add a .pc name here for a new library)
PKGS       := libbpf libelf zlib jansson ncursesw libmicrohttpd gnutls yaml-0.1 libcrypt
# libvirt is optional: without libvirt-dev, libvirt domains get no guest-side facts from it
HAVE_LIBVIRT := $(shell $(PKG_CONFIG) --exists libvirt 2>/dev/null && echo 1)
PKGS       += $(if $(HAVE_LIBVIRT),libvirt)
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ifeq ($(strip $(PKG_LIBS)),)
ifeq ($(filter clean deps deps-run uninstall,$(MAKECMDGOALS)),)
$(warning pkg-config found none of: $(PKGS) (make deps-run installs them); linking with plain -l flags)
endif
PKG_LIBS   := -lbpf -lelf -lz -ljansson -lncursesw -lmicrohttpd -lgnutls -lyaml -lcrypt
endif
USER_DIRS  := cmd view record core advise source model facts
USER_INC   := $(addprefix -Iuser/,$(USER_DIRS))
VMMEM_CFLAGS   := -std=gnu11 -Wall -Wextra $(WERROR)
VMMEM_CPPFLAGS := $(if $(HAVE_LIBVIRT),-DHAVE_LIBVIRT) -D_GNU_SOURCE -DVMMEM_VERSION='"$(VERSION)"' $(USER_INC) -Ikmod/uapi -I$(BUILD) $(PKG_CFLAGS)
LDLIBS     += $(PKG_LIBS) -lm -lpthread
comma      := ,
SANITIZE   := -fsanitize=address,undefined -fno-omit-frame-pointer

BPF_SRC    := $(wildcard bpf/*.bpf.c)
# bpf/vmmem.bpf.c (the shared definitions) links first: libbpf 1.1's linker gives an extern
# map resolved by a later object's definition a stale BTF offset (0), which breaks loading
BPF_OBJ    := $(BUILD)/bpf/vmmem.bpf.o $(filter-out %/vmmem.bpf.o,$(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRC)))
BPF_HDRS   := $(wildcard bpf/*.h) kmod/uapi/vmmem.h
# user/ is one folder per layer, each including only the folders below it (README
# "Architecture"; tests/layers.sh checks it): cmd → view, record → core → advise → source →
# model → facts → kmod/uapi
USER_SRC   := $(wildcard $(addsuffix /*.c,$(addprefix user/,$(USER_DIRS))))
USER_HDRS  := $(wildcard user/*/*.h) kmod/uapi/vmmem_guest_ram_build.h
USER_OBJ   := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRC))
# the two files that include the BPF skeleton: everything else builds without clang,
# bpftool or kernel BTF (make unit CLANG=false BPFTOOL=false)
SKEL_SRC   := user/source/source_bpf.c user/source/guest_ram_bpf.c
# the library: every layer but cmd/ (the composition root, which chooses the backends)
LIB_SRC    := $(filter-out user/cmd/%,$(USER_SRC))
LIB_OBJ_SAN:= $(patsubst user/%.c,$(BUILD)/san/%.o,$(filter-out $(SKEL_SRC),$(LIB_SRC)))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_BIN   := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))

.SECONDARY:
.PHONY: all deps deps-run install uninstall run test unit bench demo kmod clean fuzz fuzz-check fuzz-seeds soak man
all: $(BUILD)/vmmemtop $(TOOL_BIN)

# deps-run: what building and running needs; deps: that plus what tests, bench and demo need
deps-run:
	@bash tests/deps.sh run

deps:
	@bash tests/deps.sh test

# ---- BPF: vmlinux.h from a kernel's BTF, CO-RE object, skeleton ----
# VMLINUX_BTF: the running kernel's BTF by default; a chroot or package build names any
# kernel's (a raw BTF file, or a vmlinux ELF with .BTF): CO-RE relocates at load time anyway.
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	@test -r "$(VMLINUX_BTF)" || { echo "make: no kernel BTF at $(VMLINUX_BTF): pass VMLINUX_BTF=/path/to/vmlinux (a BTF file or an ELF with .BTF)" >&2; exit 1; }
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

# one object per subsystem file, linked into one (bpftool's static linker resolves the
# VMMEM_SHARED externs to bpf/vmmem.bpf.c's definitions)
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function \
		-I$(BUILD) -Ikmod/uapi -Ibpf -c $< -o $@

$(BUILD)/vmmem.bpf.o: $(BPF_OBJ)
	$(BPFTOOL) gen object $@ $^

$(BUILD)/vmmem.skel.h: $(BUILD)/vmmem.bpf.o
	$(BPFTOOL) gen skeleton $< name vmmem_bpf > $@

# ---- user space ----
$(BUILD)/user/%.o: user/%.c $(USER_HDRS) kmod/uapi/vmmem.h $(BUILD)/vmmem.skel.h
	@mkdir -p $(@D)
	$(CC) $(VMMEM_CPPFLAGS) $(CPPFLAGS) $(VMMEM_CFLAGS) $(CFLAGS) -c $< -o $@

# the skeleton's users also expand bpf/progs.h, the table of BPF programs
$(patsubst user/%.c,$(BUILD)/user/%.o,$(SKEL_SRC)): VMMEM_CPPFLAGS += -Ibpf

$(BUILD)/vmmemtop: $(USER_OBJ)
	$(CC) $(VMMEM_CFLAGS) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# sanitizer build of the library objects, for unit tests
$(BUILD)/san/%.o: user/%.c $(USER_HDRS) kmod/uapi/vmmem.h
	@mkdir -p $(@D)
	$(CC) $(VMMEM_CPPFLAGS) $(CPPFLAGS) $(VMMEM_CFLAGS) $(CFLAGS) -O1 $(SANITIZE) -c $< -o $@

# an archive, so each unit test links only the objects it calls
$(BUILD)/san/libvmmem.a: $(LIB_OBJ_SAN)
	rm -f $@ && ar rcs $@ $^

# the commands (their option tables) for test_cli_table: all of cmd/ but main() and the
# table of sources, which names the BPF one
CMD_OBJ_SAN:= $(patsubst user/%.c,$(BUILD)/san/%.o,$(filter-out user/cmd/main.c user/cmd/backends.c,$(filter user/cmd/%,$(USER_SRC))))
$(BUILD)/san/libvmmemcmd.a: $(CMD_OBJ_SAN)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/tests/%: tests/unit/%.c tests/unit/backends.c tests/unit/unit.h $(BUILD)/san/libvmmemcmd.a $(BUILD)/san/libvmmem.a
	@mkdir -p $(@D)
	$(CC) $(VMMEM_CPPFLAGS) $(CPPFLAGS) $(VMMEM_CFLAGS) $(CFLAGS) -O1 $(SANITIZE) $(LDFLAGS) $< tests/unit/backends.c \
		$(BUILD)/san/libvmmemcmd.a $(BUILD)/san/libvmmem.a -o $@ $(LDLIBS) -lcmocka

# test workloads (ksm, tlb, madvise, kvm guests): static where they run inside a VM
$(BUILD)/tools/%: tests/tools/%.c $(wildcard tests/tools/*.h)
	@mkdir -p $(@D)
	$(CC) $(VMMEM_CPPFLAGS) $(CPPFLAGS) $(VMMEM_CFLAGS) $(CFLAGS) $(LDFLAGS) $< -o $@ -lpthread

# ---- kernel module (top-level Kbuild): KDIR defaults to the running kernel's build
# directory, else the newest installed headers (linux-headers-amd64) ----
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) $(lastword $(sort $(wildcard /lib/modules/*/build))))
kmod:
	@test -n "$(KDIR)" || { echo "make kmod: no kernel build directory: apt-get install linux-headers-amd64, or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

# ---- install: PREFIX (default /usr/local) and DESTDIR (staging root for packages) ----
# systemd, udev and sysusers read /usr/local/lib/... as well as /usr/lib/...; DKMS reads
# only /usr/src, so DKMSDIR is not under PREFIX.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/vmmem
DOCDIR     ?= $(PREFIX)/share/doc/vmmem
UNITDIR    ?= $(PREFIX)/lib/systemd/system
UDEVDIR    ?= $(PREFIX)/lib/udev/rules.d
SYSUSERSDIR?= $(PREFIX)/lib/sysusers.d
BASHCOMPDIR?= $(PREFIX)/share/bash-completion/completions
DKMSDIR    ?= /usr/src
INSTALL    ?= install
KMOD_SRC   := Kbuild $(wildcard kmod/*.c kmod/*.h kmod/uapi/*.h)

install: $(BUILD)/vmmemtop
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(UDEVDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(DATADIR)/grafana $(DESTDIR)$(DATADIR)/prometheus $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(DKMSDIR)/vmmem-$(RELEASE)/kmod/uapi
	$(INSTALL) -m 0755 $(BUILD)/vmmemtop $(DESTDIR)$(BINDIR)/vmmemtop
	$(INSTALL) -m 0644 deploy/vmmemtop.8 $(DESTDIR)$(MANDIR)/man8/vmmemtop.8
	sed 's|/usr/local/bin/vmmemtop|$(BINDIR)/vmmemtop|g' deploy/vmmem-exporter.service > $(DESTDIR)$(UNITDIR)/vmmem-exporter.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/vmmem-exporter.service
	$(INSTALL) -m 0644 deploy/udev/60-vmmem.rules $(DESTDIR)$(UDEVDIR)/60-vmmem.rules
	$(INSTALL) -m 0644 deploy/sysusers.d/vmmem.conf $(DESTDIR)$(SYSUSERSDIR)/vmmem.conf
	$(INSTALL) -m 0644 deploy/bash-completion/vmmemtop $(DESTDIR)$(BASHCOMPDIR)/vmmemtop
	$(INSTALL) -m 0644 deploy/grafana/vmmem.json $(DESTDIR)$(DATADIR)/grafana/vmmem.json
	$(INSTALL) -m 0644 deploy/prometheus/vmmem.rules.yml $(DESTDIR)$(DATADIR)/prometheus/vmmem.rules.yml
	$(INSTALL) -m 0644 README.md LICENSE deploy/licenses/GPL-2.0-only.txt deploy/licenses/MIT.txt $(DESTDIR)$(DOCDIR)/
	for f in $(KMOD_SRC); do $(INSTALL) -m 0644 $$f $(DESTDIR)$(DKMSDIR)/vmmem-$(RELEASE)/$$f || exit 1; done
	sed 's/@RELEASE@/$(RELEASE)/g' deploy/dkms/dkms.conf.in > $(DESTDIR)$(DKMSDIR)/vmmem-$(RELEASE)/dkms.conf
	chmod 0644 $(DESTDIR)$(DKMSDIR)/vmmem-$(RELEASE)/dkms.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vmmemtop $(DESTDIR)$(MANDIR)/man8/vmmemtop.8 \
		$(DESTDIR)$(UNITDIR)/vmmem-exporter.service $(DESTDIR)$(UDEVDIR)/60-vmmem.rules \
		$(DESTDIR)$(SYSUSERSDIR)/vmmem.conf $(DESTDIR)$(BASHCOMPDIR)/vmmemtop
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DKMSDIR)/vmmem-$(RELEASE)

# ---- fuzzing: one libFuzzer target per tests/fuzz/fuzz_<name>.c, clang only. The library
# objects are built once with coverage and ASan/UBSan into an archive, so each target links
# only the parsers it calls; tests/fuzz/corpus/<name>/ is its seed corpus ----
FUZZ_SECONDS       ?= 600
FUZZ_CHECK_SECONDS ?= 30
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_FLAGS   := -g -O1 -std=gnu11 -Wall -Wextra $(WERROR)
# (not the BPF loader and the TUI: no parser there, and they need the skeleton and ncurses)
FUZZ_OBJ     := $(patsubst user/%.c,$(BUILD)/fuzzobj/%.o,$(filter-out $(SKEL_SRC) \
		  user/source/bpf_probe.c user/view/tui_%.c,$(LIB_SRC)))
SEED_SRC     := tests/fuzz/make_seeds.c user/record/record_writer.c user/facts/fileio.c user/model/counters.c \
		user/source/events.c user/facts/qmp.c user/facts/guest_ram.c

$(BUILD)/fuzzobj/%.o: user/%.c $(USER_HDRS) kmod/uapi/vmmem.h
	@mkdir -p $(@D)
	$(CLANG) $(VMMEM_CPPFLAGS) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c $< -o $@

$(BUILD)/fuzzobj/libvmmem.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/fuzzobj/libvmmem.a
	@mkdir -p $(@D)
	$(CLANG) $(VMMEM_CPPFLAGS) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer $(FUZZ_SAN) $< $(BUILD)/fuzzobj/libvmmem.a \
		-o $@ $(LDLIBS)

$(BUILD)/fuzz/make_seeds: $(SEED_SRC) $(USER_HDRS) kmod/uapi/vmmem.h
	@mkdir -p $(@D)
	$(CC) $(VMMEM_CPPFLAGS) $(CPPFLAGS) $(VMMEM_CFLAGS) $(CFLAGS) $(LDFLAGS) $(SEED_SRC) -o $@ -lz -ljansson -lm

# the committed seeds of the recording reader and the /dev/vmmem decoder are what this
# writes (rerun after a format or ABI change); the other targets' seeds are small text files
fuzz-seeds: $(BUILD)/fuzz/make_seeds
	@mkdir -p tests/fuzz/corpus/record tests/fuzz/corpus/kmod
	$< tests/fuzz/corpus

# ---- entry points ----
run: deps-run $(BUILD)/vmmemtop
	$(BUILD)/vmmemtop

# the man page's OPTIONS section is made from the option tables (tests/host/test_cli.sh
# fails when they disagree): rewrite it after changing an option
man: $(BUILD)/vmmemtop
	$(BUILD)/vmmemtop help --man > $(BUILD)/man-options.roff
	awk -v gen=$(BUILD)/man-options.roff '/^\.SH /{skip=0} /^\.SH OPTIONS$$/{print; while ((getline l < gen) > 0) print l; skip=1; next} !skip' \
		deploy/vmmemtop.8 > $(BUILD)/vmmemtop.8 && mv $(BUILD)/vmmemtop.8 deploy/vmmemtop.8

unit: $(UNIT_BIN)
	@bash tests/layers.sh
	@bash tests/run-unit.sh $(UNIT_BIN)

test: deps all unit fuzz-check
	@bash tests/run.sh

# a bounded fuzzing run of every target (part of make test: FUZZ_CHECK_SECONDS each);
# make fuzz runs each for FUZZ_SECONDS (default 600); FUZZ=name,... picks targets
fuzz-check: $(FUZZ_BIN)
	@FUZZ_SEED=$${FUZZ_SEED:-1} bash tests/fuzz/run.sh $(FUZZ_CHECK_SECONDS) $(subst $(comma), ,$(FUZZ))

fuzz: deps $(FUZZ_BIN)
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(subst $(comma), ,$(FUZZ))

# the sampling-loop benchmark links the core as vmmemtop does
$(BUILD)/bench/sampling_bench: tests/bench/sampling_bench.c $(BUILD)/user/cmd/backends.o \
		$(filter-out $(BUILD)/user/cmd/%,$(USER_OBJ))
	@mkdir -p $(@D)
	$(CC) $(VMMEM_CPPFLAGS) $(CPPFLAGS) $(VMMEM_CFLAGS) $(CFLAGS) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# the churn soak at length: 10 rounds of 500 short-lived VMMs (make test runs 1 of 300), and
# the view measured after its 300 s exited-VM window;
# on a shared machine: flock /tmp/vmmem-host.lock make soak
SOAK_ROUNDS ?= 10
SOAK_VMS    ?= 500
soak: deps all
	@SOAK_ROUNDS=$(SOAK_ROUNDS) SOAK_VMS=$(SOAK_VMS) SOAK_VIEW_GRACE_S=310 TESTS=test_soak bash tests/run.sh

bench: deps all $(BUILD)/bench/sampling_bench
	@bash tests/bench/run.sh

demo: deps all
	@bash tests/vm/demo.sh

# make print-VAR: a variable's value, for the tests (e.g. print-PKGS)
print-%:
	@echo $($*)

clean:
	rm -rf $(BUILD)
	rm -f vmmem.ko vmmem.mod vmmem.mod.c vmmem.mod.o vmmem.o kmod/*.o kmod/.*.cmd .*.cmd Module.symvers modules.order
