# SPDX-License-Identifier: GPL-2.0-only
# minikvm: build the module, the selftests and the user programs; run the test rigs.
#
#   make / make all    module (in place: ./minikvm.ko), user/ programs and selftests
#                      (static binaries in build/)
#   make module        only the module; KDIR=/path/to/kernel/build to pick the kernel
#   make module-copy   the module for the guest kernel KVER, built in build/k-<version>/
#   make selftests     only the selftests (build/selftests/*_test)
#   make unit          host-side unit tests (tests/unit/)
#   make doc-check     check that Documentation/ cites files, functions and ioctls
#                      that exist (scripts/doc-check.sh)
#   make bench         minikvm vs kvm.ko benchmarks in both rigs (bench/run.sh), the
#                      real QEMU's boot and live migration among them: a table,
#                      bench/results/<date>-<rig>.{csv,png}; not part of check
#                      (BENCH_VENDOR=svm|vmx, BENCH_SEQUENTIAL=1)
#   make bench-trace   what the tracepoints cost: the per-exit figures in the SVM rig
#                      (-icount) with tracepoints compiled out, disabled, enabled
#   make module MKVM_NO_TRACE=1   the module with its tracepoints compiled out
#   make rig           boot a test rig and run the selftests in it; options:
#                        VENDOR=svm|vmx   QEMU TCG (AMD SVM) or Bochs (Intel VMX)  [svm]
#                        REF=kvm          load the real kvm modules instead of minikvm
#                        TEST=name        run only selftests/name_test.c ("smoke")
#                        KVER=6.1|6.12    guest kernel series                      [6.1]
#                        KVER=debug       the debug kernel (make debug-kernel first)
#                        SHELL_VM=1       end in a shell on the console (svm only)
#                        ICOUNT=1         QEMU -icount: guest time = instructions
#                        TIMEOUT=secs     wall-clock limit of the run
#                        SMP=n            vCPUs of the QEMU machine     [2; 1 with QEMU=1]
#                        QEMU=1           pack QEMU and libvirt, for qemu_test,
#                                         libvirt_test, migrate_test (rig.sh --qemu)
#                        TOOLS=1          pack perf and bpftrace, for perf_test and
#                                         bpftrace_test (rig.sh --tools)
#                        APPEND="..."     more kernel command line (APPEND=loglevel=7)
#                        UPSTREAM=check|all|a,b  also Linux's own KVM selftests (below)
#   make upstream      Linux 6.1's own KVM selftests, unmodified (Debian's linux-source-6.1),
#                      all of them on minikvm, then on the real kvm module, in one rig
#                      (VENDOR=svm|vmx, UPSTREAM=all|check|a,b); the per-test table in
#                      build/upstream/<vendor>.md; not part of check (it runs a subset,
#                      selftests/upstream/expected.txt)
#   make upstream-build  only build them (once: cached outside the clone,
#                      scripts/upstream-selftests.sh)
#   make fuzz          the KVM API fuzzer (selftests/fuzz_test.c) alone in a rig, for
#                      FUZZ_SECS guest seconds [300]; VENDOR=, REF=kvm, KVER= as for rig;
#                      FUZZ_SEED=n replays a seed (with FUZZ_THREADS=1: exactly);
#                      FUZZ_THREADS, FUZZ_OPS, FUZZ_ROUNDS, FUZZ_FIRST_ROUND,
#                      FUZZ_ROUND_SECS, FUZZ_GUEST=0|1, FUZZ_WILD=0|1 are passed on
#                      (Documentation/testing.rst); make check runs it for 40 s in
#                      the SVM rigs and for 15 s in the minikvm VMX rig (ioctls only there)
#   make debug-kernel  build the debug rig's kernel (KASAN, lockdep, kmemleak ...) from
#                      linux-source-6.1, once, cached outside the clone
#                      (scripts/debug-kernel.sh); then `make rig KVER=debug`
#   make check         everything above on both rigs, with and without REF; the last
#                      line is "N passed, N failed, N skipped"
#   make demo          boot the SVM rig, load minikvm.ko, boot Linux as its guest
#   make deps          install the Debian packages all this needs
#   make clean         remove build products (keeps the downloaded guest kernels);
#   make distclean     ... and those too
#
# Kernel versions: KVER picks a Debian 12 kernel series; scripts/kver.sh turns it into
# the newest installed headers version (e.g. 6.1 -> 6.1.0-56-amd64), and the rig boots
# the linux-image of exactly that version (downloaded into build/kernel/).

KVER      ?= 6.1
GUEST_VER := $(shell scripts/kver.sh $(KVER) 2>/dev/null)
ifeq ($(KVER),debug)
GUEST_KDIR := $(shell scripts/debug-kernel.sh dir)/out
else
GUEST_KDIR := /usr/src/linux-headers-$(GUEST_VER)
endif

# The kernel to build the module against: the running kernel's build directory if
# there is one, else the headers of the KVER series.
ifneq ($(wildcard /lib/modules/$(shell uname -r)/build),)
KDIR ?= /lib/modules/$(shell uname -r)/build
else
KDIR ?= $(GUEST_KDIR)
endif

BUILD := $(CURDIR)/build

# The minikvm.ko the rig loads must be built for the guest kernel: the in-place one
# if KDIR is that kernel, else a copy built in build/k-<version>/ (out-of-tree
# builds write their objects next to the sources, so each kernel needs its own copy).
ifeq ($(realpath $(KDIR)),$(realpath $(GUEST_KDIR)))
RIG_KO     := $(CURDIR)/minikvm.ko
RIG_MODULE := module
else
RIG_KO     := $(BUILD)/k-$(GUEST_VER)/minikvm.ko
RIG_MODULE := module-copy
endif

all: module user selftests

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

module-copy:
	@[ -n "$(GUEST_VER)" ] || { scripts/kver.sh $(KVER); exit 1; }
	mkdir -p $(BUILD)/k-$(GUEST_VER)
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		--exclude='*.mod' --exclude='*.mod.c' Kbuild kmod $(BUILD)/k-$(GUEST_VER)/
	$(MAKE) -C $(GUEST_KDIR) M=$(BUILD)/k-$(GUEST_VER) modules

user:
	@if [ -f user/Makefile ]; then $(MAKE) -C user OUT=$(BUILD)/user; fi

$(BUILD)/ksft/kselftest_harness.h:
	scripts/ksft-headers.sh $(BUILD)/ksft

selftests: $(BUILD)/ksft/kselftest_harness.h
	$(MAKE) -C selftests OUT=$(BUILD)/selftests KSFT=$(BUILD)/ksft

unit:
	scripts/unit-tests.sh

doc-check:
	scripts/doc-check.sh

# Benchmarks (bench/run.sh): minikvm vs the real kvm modules in both rigs; a table,
# bench/results/<date>-<rig>.{csv,png}. Not part of check: it measures, never fails
# on a figure. BENCH_VENDOR=svm|vmx for one rig only; BENCH_SEQUENTIAL=1 runs the
# minikvm and kvm rigs one after the other instead of side by side.
bench: deps user $(RIG_MODULE)
	$(MAKE) -C bench OUT=$(BUILD)/bench
	bench/run.sh --vendor $(or $(BENCH_VENDOR),both) --kver $(KVER) --module $(RIG_KO) \
		$(if $(filter 1,$(BENCH_SEQUENTIAL)),--sequential)

# The module without tracepoints (MKVM_NO_TRACE=1, Kbuild), in its own copy of the
# sources: build/k-<version>-notrace/minikvm.ko.
NOTRACE_DIR := $(BUILD)/k-$(GUEST_VER)-notrace

module-notrace:
	@[ -n "$(GUEST_VER)" ] || { scripts/kver.sh $(KVER); exit 1; }
	mkdir -p $(NOTRACE_DIR)
	rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
		--exclude='*.mod' --exclude='*.mod.c' Kbuild kmod $(NOTRACE_DIR)/
	$(MAKE) -C $(GUEST_KDIR) M=$(NOTRACE_DIR) MKVM_NO_TRACE=1 modules

# Tracepoints compiled out vs disabled vs enabled (bench/run.sh --trace-cost):
# three SVM -icount runs, one after the other. Not part of check.
bench-trace: $(RIG_MODULE) module-notrace
	$(MAKE) -C bench OUT=$(BUILD)/bench
	bench/run.sh --trace-cost --kver $(KVER) --module $(RIG_KO) \
		--module-notrace $(NOTRACE_DIR)/minikvm.ko

RIG_ARGS := --vendor $(or $(VENDOR),svm) --kver $(KVER) \
	$(if $(filter kvm,$(REF)),--ref,--module $(RIG_KO)) \
	$(foreach t,$(TEST),--test $(t)) \
	$(if $(filter 1,$(SHELL_VM)),--shell) $(if $(filter 1,$(ICOUNT)),--icount) \
	$(if $(filter 1,$(QEMU)),--qemu) $(if $(filter 1,$(TOOLS)),--tools) \
	$(if $(TIMEOUT),--timeout $(TIMEOUT)) \
	$(if $(UPSTREAM),--upstream $(UPSTREAM))

rig: selftests user $(if $(filter kvm,$(REF)),,$(RIG_MODULE))
	$(if $(SMP),SMP=$(SMP)) scripts/rig.sh $(RIG_ARGS)

FUZZ_SECS ?= 300
FUZZ_VARS := FUZZ_SECS=$(FUZZ_SECS) $(foreach v,FUZZ_SEED FUZZ_THREADS FUZZ_OPS FUZZ_ROUNDS \
	FUZZ_FIRST_ROUND FUZZ_ROUND_SECS FUZZ_GUEST FUZZ_WILD,$(if $($(v)),$(v)=$($(v))))

fuzz: selftests user $(if $(filter kvm,$(REF)),,$(RIG_MODULE))
	$(if $(SMP),SMP=$(SMP)) scripts/rig.sh --vendor $(or $(VENDOR),svm) --kver $(KVER) \
		$(if $(filter kvm,$(REF)),--ref,--module $(RIG_KO)) --test fuzz \
		--name fuzz-$(or $(VENDOR),svm)-$(if $(filter kvm,$(REF)),kvm,minikvm) \
		--env "$(FUZZ_VARS)" --test-timeout $$(($(FUZZ_SECS) + 120)) \
		--timeout $$(($(FUZZ_SECS) + $(if $(filter vmx,$(VENDOR)),600,240)))

upstream-build:
	scripts/upstream-selftests.sh build

# The full list: minikvm then the real module, one after the other (one emulator at
# a time); the wall-clock limits fit the full list with room (Documentation/testing.rst).
upstream: deps upstream-build $(RIG_MODULE)
	scripts/upstream-selftests.sh run $(or $(VENDOR),svm) $(or $(UPSTREAM),all) $(RIG_KO) \
		--kver $(KVER) --timeout $(or $(TIMEOUT),$(if $(filter vmx,$(VENDOR)),14400,3600))

demo: deps
	$(MAKE) $(RIG_MODULE) user selftests
	scripts/rig.sh --vendor svm --kver $(KVER) --module $(RIG_KO) --demo --l2 --qemu \
		--test-timeout 400 --timeout 900 --name demo

check: deps
	scripts/check.sh

deps:
	scripts/deps.sh

debug-kernel: deps
	scripts/debug-kernel.sh build

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
	@if [ -f tests/unit/Makefile ]; then $(MAKE) -C tests/unit clean; fi
	find build -mindepth 1 -maxdepth 1 ! -name kernel -exec rm -rf {} + 2>/dev/null || true

distclean: clean
	rm -rf build

.PHONY: all module module-copy module-notrace user selftests unit doc-check bench \
	bench-trace rig fuzz upstream upstream-build demo check deps debug-kernel clean distclean
