# vmmem: `make run` installs, builds and starts vmmemtop; `make test` installs, builds and
# runs every test. Everything is built under build/.

BUILD      ?= build
CC         ?= gcc
CLANG      ?= clang
BPFTOOL    ?= bpftool
ARCH       := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION    := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

WERROR     ?= $(if $(CI),-Werror,)
CFLAGS     ?= -O2 -g
CFLAGS     += -std=gnu11 -Wall -Wextra $(WERROR) -D_GNU_SOURCE -DVMMEM_VERSION='"$(VERSION)"'
CPPFLAGS   += -Iuser -Ikmod/uapi -I$(BUILD)
LDLIBS     += -lbpf -lelf -lz -ljansson -lncursesw -lmicrohttpd -lm -lpthread
comma      := ,
SANITIZE   := -fsanitize=address,undefined -fno-omit-frame-pointer

BPF_SRC    := bpf/vmmem.bpf.c
BPF_HDRS   := $(wildcard bpf/*.h) kmod/uapi/vmmem.h
USER_SRC   := $(wildcard user/*.c)
USER_OBJ   := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRC))
LIB_OBJ_SAN:= $(patsubst user/%.c,$(BUILD)/san/%.o,$(filter-out user/main.c,$(USER_SRC)))
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_SRC   := $(wildcard tests/tools/*.c)
TOOL_BIN   := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))

.SECONDARY:
.PHONY: all deps deps-run run test unit bench demo kmod clean fuzz fuzz-check fuzz-seeds
all: $(BUILD)/vmmemtop $(TOOL_BIN)

# deps-run: what building and running needs; deps: that plus what tests, bench and demo need
deps-run:
	@bash tests/deps.sh run

deps:
	@bash tests/deps.sh test

# ---- BPF: vmlinux.h from the running kernel's BTF, CO-RE object, skeleton ----
$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/vmmem.bpf.o: $(BPF_SRC) $(BPF_HDRS) $(BUILD)/vmlinux.h
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function \
		-I$(BUILD) -Ikmod/uapi -Ibpf -c $< -o $@.tmp && \
		$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(BUILD)/vmmem.skel.h: $(BUILD)/vmmem.bpf.o
	$(BPFTOOL) gen skeleton $< name vmmem_bpf > $@

# ---- user space ----
$(BUILD)/user/%.o: user/%.c $(wildcard user/*.h) kmod/uapi/vmmem.h $(BUILD)/vmmem.skel.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/vmmemtop: $(USER_OBJ)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# sanitizer build of the library objects, for unit tests
$(BUILD)/san/%.o: user/%.c $(wildcard user/*.h) kmod/uapi/vmmem.h $(BUILD)/vmmem.skel.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SANITIZE) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ_SAN)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -O1 $(SANITIZE) $< $(LIB_OBJ_SAN) -o $@ $(LDLIBS) -lcmocka

# test workloads (ksm, tlb, madvise, kvm guests): static where they run inside a VM
$(BUILD)/tools/%: tests/tools/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ -lpthread

# ---- kernel module (top-level Kbuild): KDIR defaults to the running kernel's build
# directory, else the newest installed headers (linux-headers-amd64) ----
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) $(lastword $(sort $(wildcard /lib/modules/*/build))))
kmod:
	@test -n "$(KDIR)" || { echo "make kmod: no kernel build directory: apt-get install linux-headers-amd64, or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

# ---- fuzzing: one libFuzzer target per tests/fuzz/fuzz_<name>.c, clang only. The library
# objects are built once with coverage and ASan/UBSan into an archive, so each target links
# only the parsers it calls; tests/fuzz/corpus/<name>/ is its seed corpus ----
FUZZ_SECONDS       ?= 600
FUZZ_CHECK_SECONDS ?= 20
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_FLAGS   := -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -DVMMEM_VERSION='"fuzz"'
# (not the BPF loader and the TUI: no parser there, and they need the skeleton and ncurses)
FUZZ_OBJ     := $(patsubst user/%.c,$(BUILD)/fuzzobj/%.o,$(filter-out user/main.c user/source_bpf.c \
		  user/bpf_probe.c user/tui_%.c,$(USER_SRC)))
SEED_SRC     := tests/fuzz/make_seeds.c user/record_writer.c user/fileio.c user/counters.c user/events.c user/qmp.c

$(BUILD)/fuzzobj/%.o: user/%.c $(wildcard user/*.h) kmod/uapi/vmmem.h
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c $< -o $@

$(BUILD)/fuzzobj/libvmmem.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/fuzzobj/libvmmem.a
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer $(FUZZ_SAN) $< $(BUILD)/fuzzobj/libvmmem.a \
		-o $@ $(LDLIBS)

$(BUILD)/fuzz/make_seeds: $(SEED_SRC) $(wildcard user/*.h) kmod/uapi/vmmem.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SEED_SRC) -o $@ -lz -ljansson -lm

# the committed seeds of the recording reader and the /dev/vmmem decoder are what this
# writes (rerun after a format or ABI change); the other targets' seeds are small text files
fuzz-seeds: $(BUILD)/fuzz/make_seeds
	@mkdir -p tests/fuzz/corpus/record tests/fuzz/corpus/kmod
	$< tests/fuzz/corpus

# ---- entry points ----
run: deps-run all
	$(BUILD)/vmmemtop

unit: $(UNIT_BIN)
	@bash tests/run-unit.sh $(UNIT_BIN)

test: deps all unit fuzz-check
	@bash tests/run.sh

# a bounded fuzzing run of every target (part of make test: FUZZ_CHECK_SECONDS each);
# make fuzz runs each for FUZZ_SECONDS (default 600); FUZZ=name,... picks targets
fuzz-check: $(FUZZ_BIN)
	@bash tests/fuzz/run.sh $(FUZZ_CHECK_SECONDS) $(subst $(comma), ,$(FUZZ))

fuzz: deps $(FUZZ_BIN)
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(subst $(comma), ,$(FUZZ))

bench: deps all
	@bash tests/bench/run.sh

demo: deps all
	@bash tests/vm/demo.sh

clean:
	rm -rf $(BUILD)
	rm -f vmmem.ko vmmem.mod vmmem.mod.c vmmem.mod.o vmmem.o kmod/*.o kmod/.*.cmd .*.cmd Module.symvers modules.order
