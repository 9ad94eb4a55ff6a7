# make guest-symbols: the guest kernel's function names for gdb, read once
# from /proc/kallsyms of a nokaslr boot (scripts/guest-symbols.py); then
#   (gdb) symbol-file build/guest/kallsyms.elf

GUEST_SYMBOLS := $(BUILD)/guest/kallsyms.elf

.PHONY: guest-symbols
guest-symbols: $(GUEST_SYMBOLS)

$(GUEST_SYMBOLS): $(HYP) $(GUEST_INITRD) $(KERNEL) scripts/guest-symbols.py
	@echo "  SYMS    $@ (boots the guest once to read /proc/kallsyms)"
	@python3 scripts/guest-symbols.py --build $(BUILD)
