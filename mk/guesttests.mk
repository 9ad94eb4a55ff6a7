# Guest-side test programs, part of every initramfs (so `make` and `make
# test` build them); the system tests run them (docs/testing.md):
#
#   /bin/a32test     guest/tests/a32test/: static 32-bit ARM program, no libc
#                    (clang --target=armv7a, raw system calls, ld.lld):
#                    trapped loads, stores and WFx in A32, T32 and T16
#                    (tests/system/test_arm32.py)
#   /bin/featstress  guest/tests/featstress/: static aarch64 program:
#                    pointer authentication, SVE or AdvSIMD, and PMU state
#                    under stress (tests/system/test_features.py)
#
# Included from the top-level Makefile after its own rules (it uses BUILD,
# HOST_STAMP); GUEST_CC and GUEST_CFLAGS come from mk/bench.mk.

A32_CC     := clang
A32_CFLAGS := --target=armv7a-linux-gnueabihf -marm -O2 -ffreestanding -fno-builtin -fno-stack-protector \
	-fomit-frame-pointer -fno-pic -Wall -Wextra -Werror -nostdlib -static -fuse-ld=lld -Wl,--build-id=none
A32_SRC    := $(wildcard guest/tests/a32test/*.c guest/tests/a32test/*.S)
A32_DEPS   := $(A32_SRC) $(wildcard guest/tests/a32test/*.h) mk/guesttests.mk
A32_EXTRA  := $(BUILD)/guest/extra/bin/a32test

FEAT_SRC   := $(wildcard guest/tests/featstress/*.c guest/tests/featstress/*.S)
FEAT_EXTRA := $(BUILD)/guest/extra/bin/featstress

PATFILL_SRC   := $(wildcard guest/tests/patfill/*.c)
PATFILL_EXTRA := $(BUILD)/guest/extra/bin/patfill

$(A32_EXTRA): $(A32_DEPS) | $(HOST_STAMP)
	@mkdir -p $(dir $@)
	@echo "  A32CC   $@"
	@$(A32_CC) $(A32_CFLAGS) -o $@ $(A32_SRC)

$(FEAT_EXTRA): $(FEAT_SRC) mk/guesttests.mk mk/bench.mk | $(HOST_STAMP)
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $@"
	@$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $(FEAT_SRC)

$(PATFILL_EXTRA): $(PATFILL_SRC) mk/guesttests.mk mk/bench.mk | $(HOST_STAMP)
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $@"
	@$(GUEST_CC) $(GUEST_CFLAGS) -o $@ $(PATFILL_SRC)

$(BUILD)/guest/initramfs.cpio.gz: $(A32_EXTRA) $(FEAT_EXTRA) $(PATFILL_EXTRA)
