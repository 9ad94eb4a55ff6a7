# make trace: a traced boot with a guest workload, decoded (docs/tracing.md).
#
#   make trace                         WORKLOAD=boot MODE=multi
#   make trace WORKLOAD=ipi MODE=single
#                                      the bench's IPI ping-pong (hbench ipi 0 1) after the boot
#   TRACE_EVENTS=all|names             which events (as for make run TRACE=1)
#   TRACE_WINDOW=START_MS,LEN_MS       what the JSON and PNG show (default: the workload phase
#                                      for the PNG, everything for the JSON)
#
# Output: build/trace/<mode>-<workload>.{bin,txt,json,png,log}. QEMU runs
# through scripts/run-qemu.sh under the machine's QEMU lock (QEMU_LOCK,
# default /tmp/hyp-qemu.lock), which scripts/trace_record.py takes itself
# unless a parent `flock` already holds it. Included from the top-level
# Makefile (uses BUILD, MODE, TRACE_EVENTS).

WORKLOAD     ?= boot
TRACE_WINDOW ?=
TRACE_WORKLOADS := boot ipi

ifneq ($(filter trace,$(MAKECMDGOALS)),)
ifneq ($(words $(WORKLOAD)),1)
$(error WORKLOAD=$(WORKLOAD) is not a workload: use WORKLOAD=boot or WORKLOAD=ipi)
endif
ifeq ($(filter $(TRACE_WORKLOADS),$(WORKLOAD)),)
$(error WORKLOAD=$(WORKLOAD) is not a workload: use WORKLOAD=boot (the boot to the shell) or WORKLOAD=ipi (the bench's IPI ping-pong))
endif
endif

.PHONY: trace
trace: all
	@python3 scripts/trace_record.py --build $(BUILD) --mode $(MODE) --workload $(WORKLOAD) \
		--events "$(TRACE_EVENTS)" $(if $(TRACE_WINDOW),--window "$(TRACE_WINDOW)")
