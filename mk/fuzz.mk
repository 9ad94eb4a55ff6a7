# make fuzz: the libFuzzer targets of tests/fuzz/ (docs/testing.md).
#
#   make fuzz                   every target for FUZZ_SECONDS (default 20) each
#   make fuzz FUZZ_SECONDS=600  a longer campaign
#   make fuzz FUZZ_TARGETS="vgic psci"   only some targets
#   make fuzz-build             only build them (build/fuzz/<target>)
#
# Each target is tests/fuzz/fuzz_<name>.cpp, linked with the generic sources
# of hyp/{core,vgic,psci,devices,drivers,fdt,debug} compiled for the host as
# tests/unit does, all under clang's -fsanitize=fuzzer,address,undefined
# (UBSan findings abort). Seeds: tests/fuzz/corpus/<name>/ (committed); what
# a run adds: build/fuzz/corpus/<name>/; crashes: build/fuzz/crashes/<name>/,
# and make fuzz fails. tests/fuzz/run.py runs them and prints the table.
# Included from the top-level Makefile (uses BUILD, HOST_STAMP).

FUZZ_SECONDS ?= 20
FUZZ_TARGETS ?=

ifneq ($(filter fuzz,$(MAKECMDGOALS)),)
ifneq ($(shell echo '$(FUZZ_SECONDS)' | grep -xE '[1-9][0-9]{0,4}'),$(FUZZ_SECONDS))
$(error FUZZ_SECONDS=$(FUZZ_SECONDS) is not a duration: use FUZZ_SECONDS=N, N seconds per target from 1 to 99999 (default 20))
endif
endif

FUZZ_CXX := clang++
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
# No RTTI anywhere: the hypervisor has none, so UBSan's vptr check (which
# needs its typeinfo) stays off in the harnesses too.
FUZZ_FLAGS := -std=c++20 -g -O1 -Wall -Wextra -Werror -Wshadow -fno-rtti -Ihyp/include -Ihyp $(FUZZ_SAN) -MMD -MP
# The hypervisor's code as tests/unit/CMakeLists.txt builds it (no
# exceptions), with libFuzzer's coverage instrumentation.
FUZZ_HYP_FLAGS := $(FUZZ_FLAGS) -fno-exceptions -fsanitize=fuzzer-no-link

FUZZ_HYP_SRC := $(wildcard hyp/core/*.cpp hyp/vgic/*.cpp hyp/psci/*.cpp hyp/devices/*.cpp hyp/drivers/*/*.cpp \
	hyp/fdt/*.cpp hyp/debug/*.cpp)
FUZZ_HYP_OBJ := $(patsubst %.cpp,$(FUZZ_DIR)/obj/%.o,$(FUZZ_HYP_SRC))
FUZZ_LIB := $(FUZZ_DIR)/libhypfuzz.a
FUZZ_SUPPORT_OBJ := $(FUZZ_DIR)/obj/tests/fuzz/support.o
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.cpp,%,$(wildcard tests/fuzz/fuzz_*.cpp))
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/,$(FUZZ_NAMES))
FUZZ_STAMP := $(FUZZ_DIR)/.toolchain-ok

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@python3 tests/fuzz/run.py --build $(BUILD) --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# make test runs a short smoke pass of every target (tests/run_all.py).
test: fuzz-build

# libFuzzer's runtime is Debian's libclang-rt-14-dev: installed here when
# clang cannot link a fuzzer (as root), otherwise a one-line error.
$(FUZZ_STAMP): | $(HOST_STAMP)
	@mkdir -p $(FUZZ_DIR)
	@printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' >$(FUZZ_DIR)/probe.cpp
	@probe() { $(FUZZ_CXX) -fsanitize=fuzzer,address,undefined $(FUZZ_DIR)/probe.cpp -o $(FUZZ_DIR)/probe 2>/dev/null; }; \
	probe || { [ "$$(id -u)" -eq 0 ] && echo "  APT     libclang-rt-14-dev (libFuzzer's runtime)" && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-rt-14-dev >/dev/null 2>&1; probe; } || \
	{ echo "*** make fuzz: $(FUZZ_CXX) cannot link a libFuzzer target: install Debian's libclang-rt-14-dev (apt-get install libclang-rt-14-dev)" >&2; exit 1; }
	@rm -f $(FUZZ_DIR)/probe $(FUZZ_DIR)/probe.cpp
	@touch $@

$(FUZZ_DIR)/obj/%.o: %.cpp mk/fuzz.mk | $(FUZZ_STAMP)
	@mkdir -p $(dir $@)
	@echo "  FUZZCXX $<"
	@$(FUZZ_CXX) $(FUZZ_HYP_FLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_HYP_OBJ) $(FUZZ_SUPPORT_OBJ)
	@rm -f $@
	@ar rcs $@ $^

# Harness code may use the host's C++ library (containers for the models).
$(FUZZ_DIR)/%: tests/fuzz/fuzz_%.cpp $(FUZZ_LIB) mk/fuzz.mk | $(FUZZ_STAMP)
	@echo "  FUZZER  $@"
	@$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer -MF $@.d -MT $@ $< $(FUZZ_LIB) -lfdt -o $@

-include $(FUZZ_HYP_OBJ:.o=.d) $(FUZZ_SUPPORT_OBJ:.o=.d) $(FUZZ_BINS:=.d)
