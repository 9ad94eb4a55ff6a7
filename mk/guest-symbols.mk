# The guest kernel's symbols for gdb, from Debian's linux-image-<kver>-dbg
# package (scripts/fetch-kernel-dbg.sh; the kernel package itself ships a
# placeholder System.map). GDB=1 boots with nokaslr, so they match.
#
#   make guest-symbols   build/guest/System.map and System.map.elf (names only):
#                          (gdb) symbol-file build/guest/System.map.elf
#   make guest-vmlinux   build/guest/vmlinux (270 MB, DWARF: types, lines, bt):
#                          (gdb) symbol-file build/guest/vmlinux
#
# make test reads System.map: its guest gdb test sets a breakpoint by name.

GUEST_SYSTEM_MAP := $(BUILD)/guest/System.map
GUEST_SYMBOLS    := $(BUILD)/guest/System.map.elf
GUEST_VMLINUX    := $(BUILD)/guest/vmlinux

.PHONY: guest-symbols guest-vmlinux
guest-symbols: $(GUEST_SYMBOLS)
guest-vmlinux: $(GUEST_VMLINUX)

$(GUEST_SYSTEM_MAP): scripts/fetch-kernel-dbg.sh $(ARM64_STAMP)
	@bash scripts/fetch-kernel-dbg.sh $(BUILD)
	@touch $@

$(GUEST_SYMBOLS): $(GUEST_SYSTEM_MAP) scripts/guest-symbols.py
	@echo "  SYMS    $@"
	@python3 scripts/guest-symbols.py --build $(BUILD)

$(GUEST_VMLINUX): scripts/fetch-kernel-dbg.sh $(ARM64_STAMP)
	@bash scripts/fetch-kernel-dbg.sh $(BUILD) --vmlinux
	@touch $@

test: $(GUEST_SYMBOLS)
