# make hwtest: the bare-metal test guest (guest/hwtest/README.md), a raw
# arm64 Image the hypervisor boots in place of Linux:
#
#   make hwtest                                  build/guest/hwtest.bin
#   make run KERNEL=build/guest/hwtest.bin       boot it (built first when named)
#
# make test builds it and tests/system/test_hwtest.py boots it in each mode.
# Included from the top-level Makefile (uses BUILD, CXX, LD, KERNEL).

HWTEST_DIR := guest/hwtest
# The hypervisor's freestanding printf is shared (hyp/core/format.cpp);
# nothing else of the code under test is.
HWTEST_SRC := $(wildcard $(HWTEST_DIR)/*.cpp $(HWTEST_DIR)/*.S) hyp/core/format.cpp
HWTEST_OBJ := $(patsubst %,$(BUILD)/hwtest/%.o,$(HWTEST_SRC))
HWTEST_ELF := $(BUILD)/guest/hwtest.elf
HWTEST_BIN := $(BUILD)/guest/hwtest.bin

# Armv8.0 code that runs on any CPU model: FP/SIMD, SVE and pointer
# authentication appear only in asm under .arch_extension, used after the
# ID registers say the feature is there. General registers only, so that no
# compiled code touches the FP/SVE state the tests check.
HWTEST_CXXFLAGS := --target=aarch64-none-elf -march=armv8-a -std=c++20 -O2 -g \
	-ffreestanding -fno-builtin -fno-exceptions -fno-rtti -fno-use-cxa-atexit -fno-threadsafe-statics \
	-mgeneral-regs-only -mstrict-align -fno-pic -fno-stack-protector \
	-fno-unwind-tables -fno-asynchronous-unwind-tables \
	-Wall -Wextra -Werror -Wshadow -Wundef -Wcast-qual -Wimplicit-fallthrough \
	-I$(HWTEST_DIR) -Ihyp/include -Ihyp -MMD -MP

.PHONY: hwtest
hwtest: $(HWTEST_BIN)

$(HWTEST_OBJ): mk/hwtest.mk

$(BUILD)/hwtest/%.cpp.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	@$(CXX) $(HWTEST_CXXFLAGS) -c $< -o $@

$(BUILD)/hwtest/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CXX) $(HWTEST_CXXFLAGS) -c $< -o $@

$(HWTEST_ELF): $(HWTEST_OBJ) $(HWTEST_DIR)/link.ld
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(LD) -nostdlib -static -T $(HWTEST_DIR)/link.ld $(HWTEST_OBJ) -o $@

$(HWTEST_BIN): $(HWTEST_ELF)
	@echo "  OBJCOPY $@"
	@llvm-objcopy -O binary $< $@

# make test boots it; make run builds it when KERNEL names it.
test: hwtest
run: $(filter $(HWTEST_BIN),$(KERNEL))

.PHONY: clean-hwtest
clean: clean-hwtest
clean-hwtest:
	rm -rf $(BUILD)/hwtest $(HWTEST_ELF) $(HWTEST_BIN)

-include $(HWTEST_OBJ:.o=.d)
