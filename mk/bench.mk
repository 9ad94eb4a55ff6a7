# make bench: native vs single-pCPU vs multi-pCPU, side by side, and a VM
# beside an idle or busy neighbour VM on disjoint or shared pCPUs.
#
#   make bench              5 runs per configuration (native, single, multi,
#                           2vm-disjoint, 2vm-shared)
#   make bench RUNS=3       another number of runs (1-50)
#   make bench QUICK=1      fast pass: shorter measurements, 2 runs unless RUNS= is given
#
# Results: a table on the terminal and in build/bench/ (results.txt,
# results.csv, summary.csv, bench.png, one console log per boot). See
# docs/performance.md. Included from the top-level Makefile, after its own
# rules (it uses BUILD, HYP, KERNEL, INITRD, MEM, CPU, HOST_STAMP, ARM64_STAMP).
#
# The guest side is part of every initramfs, so `make test` runs it too:
#   /bin/hbench                 guest/bench/hbench.c, static aarch64 program
#   /lib/hbench/hbench_exit.ko  guest/bench/kmod/, module for the guest kernel
#                               (HVC and MMIO round trips, which EL0 cannot do)

RUNS  ?=
QUICK ?=

ifneq ($(filter bench,$(MAKECMDGOALS)),)
ifneq ($(RUNS),)
ifneq ($(shell echo '$(RUNS)' | grep -xE '[1-9]|[1-4][0-9]|50'),$(RUNS))
$(error RUNS=$(RUNS) is not a run count: use RUNS=N with N from 1 to 50 (default 5, QUICK=1: 2))
endif
endif
ifneq ($(filter-out 0 1,$(QUICK)),)
$(error QUICK=$(QUICK) is not a switch: use QUICK=1 for the fast pass, or leave it out (QUICK=0))
endif
endif

GUEST_CC     := aarch64-linux-gnu-gcc
GUEST_CFLAGS := -static -O2 -pthread -s -Wall -Wextra -Werror
BENCH_SRC    := $(wildcard guest/bench/*.c)
BENCH_BIN    := $(BUILD)/guest/bench/hbench
BENCH_EXTRA  := $(BUILD)/guest/extra/bin/hbench

$(BENCH_BIN): $(BENCH_SRC) mk/bench.mk | $(HOST_STAMP)
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $@"
	@$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $(BENCH_SRC)

# The module is built against Debian's headers for exactly the guest kernel
# (scripts/fetch-kbuild.sh). Kbuild writes its objects next to the sources,
# so they are copied to a build directory first.
KBUILD_STAMP := $(BUILD)/.kbuild-fetched
KMOD_SRC     := $(wildcard guest/bench/kmod/*.c) guest/bench/kmod/Kbuild
KMOD_DIR     := $(BUILD)/guest/bench/kmod
KMOD         := $(KMOD_DIR)/hbench_exit.ko
KMOD_EXTRA   := $(BUILD)/guest/extra/lib/hbench/hbench_exit.ko

$(KBUILD_STAMP): scripts/fetch-kbuild.sh $(ARM64_STAMP)
	@bash scripts/fetch-kbuild.sh $(BUILD)
	@touch $@

$(KMOD): $(KMOD_SRC) $(KBUILD_STAMP) | $(HOST_STAMP)
	@rm -rf $(KMOD_DIR)
	@mkdir -p $(KMOD_DIR)
	@cp $(KMOD_SRC) $(KMOD_DIR)/
	@echo "  KMOD    $@"
	@$(MAKE) --no-print-directory -s -C $(BUILD)/kbuild/kdir M=$(abspath $(KMOD_DIR)) ARCH=arm64 \
		CROSS_COMPILE=aarch64-linux-gnu- modules >$(KMOD_DIR)/build.log 2>&1 || \
		{ cat $(KMOD_DIR)/build.log; echo "bench: building $@ failed (log: $(KMOD_DIR)/build.log)"; exit 1; }

# guest/build-initramfs.sh copies everything under $(BUILD)/guest/extra/
# into the archive root.
$(BENCH_EXTRA): $(BENCH_BIN)
	@install -D -m 0755 $< $@

$(KMOD_EXTRA): $(KMOD)
	@install -D -m 0644 $< $@

$(BUILD)/guest/initramfs.cpio.gz: $(BENCH_EXTRA) $(KMOD_EXTRA)

.PHONY: bench
bench: all
	@python3 scripts/bench.py --build $(BUILD) --hyp $(HYP) --kernel $(KERNEL) --initrd $(INITRD) \
		--mem $(or $(MEM),1024) --cpu $(CPU) $(if $(RUNS),--runs $(RUNS)) $(if $(filter 1,$(QUICK)),--quick)
