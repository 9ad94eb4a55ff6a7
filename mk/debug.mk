# make debug: the hypervisor under gdb through QEMU's gdb stub (docs/debugging.md).
#
#   make debug                     QEMU halted at the first instruction, gdb-multiarch attached
#                                  with build/hyp.elf's symbols and the hv-* helpers loaded
#   make debug GDBCMDS=file        the same, gdb in batch mode running `file`; the guest
#                                  console goes to $(DEBUGDIR)/console.log
#   GDBPORT=N                      port of QEMU's gdb stub on 127.0.0.1 (default 1234)
#
# MODE MEM KERNEL INITRD APPEND CPU DISK VMS VMCONF TRACE apply as for make run (same run-qemu.sh);
# with TRACE=1, hv-trace writes the event trace from memory (docs/tracing.md).

GDBPORT  ?= 1234
GDBCMDS  ?=
DEBUGDIR ?= $(BUILD)/debug

.PHONY: debug
debug: all $(filter $(DEFAULT_DISK),$(DISK))
	@HYP=$(HYP) KERNEL=$(KERNEL) INITRD=$(INITRD) MODE=$(MODE) MEM=$(MEM) CPU=$(CPU) \
		DISK="$(DISK)" VMS="$(VMS)" VMCONF="$(VMCONF)" GDBPORT="$(GDBPORT)" GDBCMDS="$(GDBCMDS)" DEBUG_DIR="$(DEBUGDIR)" \
		TRACE=$(TRACE) TRACE_FILE="$(TRACE_FILE)" TRACE_EVENTS="$(TRACE_EVENTS)" scripts/debug.sh
