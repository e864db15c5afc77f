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
LDLIBS     += -lbpf -lelf -lz -ljansson -lncursesw -lmicrohttpd -lgnutls -lyaml -lcrypt -lm -lpthread
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
.PHONY: all deps run test unit bench demo kmod clean fuzz fuzz-check fuzz-seeds
all: $(BUILD)/vmmemtop $(TOOL_BIN)

deps:
	@bash tests/deps.sh

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

# ---- fuzzing: the recording reader (and the report on it) under libFuzzer, clang only ----
FUZZ_SECONDS       ?= 600
FUZZ_CHECK_SECONDS ?= 30
FUZZ_SRC   := tests/fuzz/fuzz_record.c user/record_reader.c user/report.c user/counters.c user/events.c user/qmp.c
FUZZ_FLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) \
	      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
SEED_SRC   := tests/fuzz/make_seeds.c user/record_writer.c user/fileio.c user/counters.c user/events.c user/qmp.c

$(BUILD)/fuzz/fuzz_record: $(FUZZ_SRC) $(wildcard user/*.h) kmod/uapi/vmmem.h
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) $(FUZZ_FLAGS) $(FUZZ_SRC) -o $@ -lz -ljansson -lm

$(BUILD)/fuzz/make_seeds: $(SEED_SRC) $(wildcard user/*.h) kmod/uapi/vmmem.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SEED_SRC) -o $@ -lz -ljansson -lm

# the committed seed corpus is what this writes (rerun after a format change)
fuzz-seeds: $(BUILD)/fuzz/make_seeds
	@mkdir -p tests/fuzz/corpus
	$< tests/fuzz/corpus

# ---- entry points ----
run: deps all
	$(BUILD)/vmmemtop

unit: $(UNIT_BIN)
	@bash tests/run-unit.sh $(UNIT_BIN)

test: deps all unit fuzz-check
	@bash tests/run.sh

# a bounded fuzzing run (part of make test); make fuzz runs it for FUZZ_SECONDS (default 600)
fuzz-check: $(BUILD)/fuzz/fuzz_record
	@bash tests/fuzz/run.sh $(FUZZ_CHECK_SECONDS)

fuzz: deps $(BUILD)/fuzz/fuzz_record
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)

bench: deps all
	@bash tests/bench/run.sh

demo: deps all
	@bash tests/vm/demo.sh

clean:
	rm -rf $(BUILD)
	rm -f vmmem.ko vmmem.mod vmmem.mod.c vmmem.mod.o vmmem.o kmod/*.o kmod/.*.cmd .*.cmd Module.symvers modules.order
