# make bench: native vs single-pCPU vs multi-pCPU, side by side.
#
#   make bench              5 runs per configuration (native, single, multi)
#   make bench RUNS=3       another number of runs
#   make bench QUICK=1      fast pass: short measurements, 2 runs unless RUNS= is given
#
# Results: a table on the terminal and in build/bench/ (results.txt,
# results.csv, summary.csv, bench.png, one console log per boot). See
# docs/performance.md. Included from the top-level Makefile, after its own
# rules (it uses BUILD, HYP, KERNEL, INITRD, MEM, CPU and HOST_STAMP).
#
# The guest-side programs (guest/bench/*.c, one static aarch64 binary) are
# part of every initramfs: `make test` runs them once too.

RUNS  ?=
QUICK ?=

GUEST_CC     := aarch64-linux-gnu-gcc
GUEST_CFLAGS := -static -O2 -pthread -s -Wall -Wextra -Werror
BENCH_SRC    := $(wildcard guest/bench/*.c)
BENCH_BIN    := $(BUILD)/guest/bench/hbench
BENCH_EXTRA  := $(BUILD)/guest/extra/bin/hbench

$(BENCH_BIN): $(BENCH_SRC) mk/bench.mk | $(HOST_STAMP)
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $@"
	@$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $(BENCH_SRC)

# guest/build-initramfs.sh copies everything under $(BUILD)/guest/extra/
# into the archive root.
$(BENCH_EXTRA): $(BENCH_BIN)
	@install -D -m 0755 $< $@

$(BUILD)/guest/initramfs.cpio.gz: $(BENCH_EXTRA)

.PHONY: bench
bench: all
	@python3 scripts/bench.py --build $(BUILD) --hyp $(HYP) --kernel $(KERNEL) --initrd $(INITRD) \
		--mem $(MEM) --cpu $(CPU) $(if $(RUNS),--runs $(RUNS)) $(if $(filter-out 0,$(QUICK)),--quick)
