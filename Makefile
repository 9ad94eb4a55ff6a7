# AArch64 type-1 hypervisor: build, run, test.
#
#   make            build the hypervisor (build/hyp.elf) and the guest
#   make run        boot the guest (MODE=multi|single MEM= KERNEL= INITRD= APPEND= DISK=path|none
#                   GDB=1 GUEST_GDBPORT= TIMESLICE=ms VMS=1-4 VMCONF=path TRACE=1 TRACE_EVENTS=)
#   make debug      the same under gdb through QEMU's gdb stub (GDBPORT= GDBCMDS=; mk/debug.mk)
#   make test       host unit tests + QEMU system tests, ends with "N passed, N failed"
#   make hwtest     the bare-metal test guest build/guest/hwtest.bin (mk/hwtest.mk,
#                   guest/hwtest/README.md); make run KERNEL=build/guest/hwtest.bin boots it
#   make bench      native vs single vs multi side by side, and a VM beside an idle or
#                   busy VM (RUNS= QUICK=1; mk/bench.mk, docs/performance.md)
#   make trace      a traced boot and guest workload, decoded to a summary, Chrome JSON and a
#                   PNG timeline (WORKLOAD=boot|ipi MODE= TRACE_EVENTS=; mk/trace.mk, docs/tracing.md)
#   make guest-symbols / guest-vmlinux
#                   the guest kernel's System.map / vmlinux for gdb (mk/guest-symbols.mk)
#
# Everything the build needs is installed on first use: host packages with
# apt-get (scripts/setup-host.sh) and the arm64 kernel, BusyBox and libfdt
# from Debian's archive (scripts/fetch-arm64.sh), unpacked under build/.

BUILD   ?= build
MODE    ?= multi
MEM     ?=
CPU     ?= cortex-a57
KERNEL  ?= $(BUILD)/guest/Image
INITRD  ?= $(BUILD)/guest/initramfs.cpio.gz
APPEND  ?= console=ttyAMA0
# Raw image behind the guest's /dev/vda (virtio-blk); DISK=none for no disk.
# The default is created when missing: 64 MiB, sparse, an empty ext2.
DEFAULT_DISK := $(BUILD)/disk.img
DISK    ?= $(DEFAULT_DISK)
# GDB=1: the hypervisor's gdb stub for the guest, on 127.0.0.1:GUEST_GDBPORT
# (docs/debugging.md; GDBPORT is QEMU's own stub, make debug).
GDB     ?= 0
GUEST_GDBPORT ?= 1235
# Single mode's time slice in ms (empty: the hypervisor's default, 10;
# docs/modes.md). Multi mode has one vCPU per pCPU and no slices.
TIMESLICE ?=
# Several VMs (docs/multi-vm.md): VMS=N (1-4) VMs from the default kernel
# and initramfs, or VMCONF=path, a VM description file.
VMS     ?=
VMCONF  ?=
# TRACE=1: record the hypervisor's event trace into TRACE_FILE (at power-off
# and on Ctrl-] t); TRACE_EVENTS=all or names (docs/tracing.md, make trace).
TRACE   ?= 0
TRACE_FILE ?= $(BUILD)/trace.bin
TRACE_EVENTS ?= all

ifneq ($(filter-out multi single,$(MODE)),)
$(error MODE=$(MODE) is not a mode: use MODE=multi or MODE=single)
endif
ifneq ($(filter-out 0 1,$(GDB)),)
$(error GDB=$(GDB): use GDB=1 for the guest gdb stub (GDB=0 for none))
endif
ifneq ($(filter-out 0 1,$(TRACE)),)
$(error TRACE=$(TRACE): use TRACE=1 to record the event trace (TRACE=0 for none))
endif
ifneq ($(TIMESLICE),)
ifneq ($(shell echo '$(TIMESLICE)' | grep -xE '[1-9][0-9]{0,2}|1000'),$(TIMESLICE))
$(error TIMESLICE=$(TIMESLICE) is not a time slice: use TIMESLICE=N, N in ms from 1 to 1000 (default 10))
endif
endif

CXX := clang++
LD  := ld.lld
HYP := $(BUILD)/hyp.elf

HOST_STAMP  := $(BUILD)/.host-ready
ARM64_STAMP := $(BUILD)/.arm64-fetched
LIBFDT      := $(BUILD)/libfdt/lib/libfdt.a

# Freestanding C++20 for EL2. General registers only: the hypervisor never
# touches FP/SIMD, so it need not save the guest's. Frame pointers stay for
# the panic backtrace. -fstandalone-debug: complete debug info for every type
# (clang otherwise omits classes whose vtable lives nowhere), for gdb and
# the hv-* helpers (docs/debugging.md).
TARGET_CXXFLAGS := --target=aarch64-none-elf -march=armv8-a -std=c++20 -O2 -g -fstandalone-debug \
	-ffreestanding -fno-exceptions -fno-rtti -fno-use-cxa-atexit -fno-threadsafe-statics \
	-mgeneral-regs-only -mstrict-align -fno-pic -fno-stack-protector \
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-unwind-tables -fno-asynchronous-unwind-tables \
	-Wall -Wextra -Werror -Wshadow -Wundef -Wcast-qual -Wnon-virtual-dtor -Wimplicit-fallthrough \
	-Ihyp/arch/aarch64/include -Ihyp/include -Ihyp -Ihyp/lib/include -isystem $(BUILD)/libfdt/include \
	-MMD -MP

HYP_SRC := $(wildcard hyp/core/*.cpp hyp/vgic/*.cpp hyp/psci/*.cpp hyp/devices/*.cpp hyp/drivers/*/*.cpp hyp/fdt/*.cpp \
	hyp/debug/*.cpp hyp/vm/*.cpp hyp/trace/*.cpp \
	hyp/lib/*.cpp hyp/arch/aarch64/*.cpp hyp/arch/aarch64/*.S)
HYP_OBJ := $(patsubst %,$(BUILD)/obj/%.o,$(HYP_SRC))

GUEST_INITRD := $(BUILD)/guest/initramfs.cpio.gz

.PHONY: all guest run test unit system clean setup
all: $(HYP) guest

setup: $(HOST_STAMP) $(ARM64_STAMP)

$(HOST_STAMP): scripts/setup-host.sh
	@mkdir -p $(BUILD)
	@bash scripts/setup-host.sh
	@touch $@

$(ARM64_STAMP): scripts/fetch-arm64.sh | $(HOST_STAMP)
	@bash scripts/fetch-arm64.sh $(BUILD)
	@touch $@

$(LIBFDT): $(ARM64_STAMP)

# The compile flags live here: objects built with other flags are stale.
$(HYP_OBJ): Makefile

$(BUILD)/obj/%.cpp.o: %.cpp | $(ARM64_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	@$(CXX) $(TARGET_CXXFLAGS) $(if $(findstring hyp/lib/,$<),-fno-builtin) -c $< -o $@

$(BUILD)/obj/%.S.o: %.S | $(ARM64_STAMP)
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CXX) $(TARGET_CXXFLAGS) -c $< -o $@

$(HYP): $(HYP_OBJ) $(LIBFDT) hyp/arch/aarch64/link.ld
	@echo "  LD      $@"
	@$(LD) -nostdlib -static -T hyp/arch/aarch64/link.ld $(HYP_OBJ) $(LIBFDT) -o $@

guest: $(GUEST_INITRD)

$(GUEST_INITRD): guest/build-initramfs.sh guest/init $(ARM64_STAMP)
	@bash guest/build-initramfs.sh $(BUILD) $@

# APPEND reaches run-qemu.sh (make run, make debug) through the environment,
# unexpanded, never through the recipe's shell text: a kernel command line
# may hold quotes, blanks and '$' (APPEND='console=ttyAMA0 foo="bar baz"'),
# and the guest gets them as typed.
run debug: override export APPEND := $(value APPEND)

run: all $(filter $(DEFAULT_DISK),$(DISK))
	@HYP=$(HYP) KERNEL=$(KERNEL) INITRD=$(INITRD) MODE=$(MODE) MEM=$(MEM) CPU=$(CPU) \
		DISK="$(DISK)" GDB=$(GDB) GUEST_GDBPORT=$(GUEST_GDBPORT) TIMESLICE=$(TIMESLICE) \
		VMS="$(VMS)" VMCONF="$(VMCONF)" TRACE=$(TRACE) TRACE_FILE="$(TRACE_FILE)" \
		TRACE_EVENTS="$(TRACE_EVENTS)" scripts/run-qemu.sh

$(DEFAULT_DISK): | $(HOST_STAMP)
	@mkdir -p $(dir $@)
	@rm -f $@.tmp && truncate -s 64M $@.tmp && mkfs.ext2 -q -F -L guestdisk $@.tmp && mv $@.tmp $@
	@echo "  DISK    $@: a 64 MiB ext2 image for the guest's /dev/vda (mount /dev/vda /mnt)"

$(GUEST_INITRD): $(wildcard guest/modules.list)

unit: $(HOST_STAMP)
	@cmake -S tests/unit -B $(BUILD)/unit -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@$(MAKE) --no-print-directory -s -C $(BUILD)/unit -j2

test: all unit
	@python3 tests/run_all.py --build $(BUILD)

clean:
	rm -rf $(BUILD)/obj $(HYP) $(BUILD)/unit

-include $(HYP_OBJ:.o=.d)
-include mk/*.mk
