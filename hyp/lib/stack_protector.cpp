// Stack-protector support: libfdt.a (Debian's build) is compiled with
// -fstack-protector-strong and references these two symbols.
#include "lib_attrs.h"
#include "log.h"
#include "types.h"

// Constant-initialised so it is valid before any C++ code runs. Boot code
// may replace it with a random value, but only from a function that has no
// canary in its own frame (or before the first protected call).
extern "C" __attribute__((used)) uptr __stack_chk_guard = 0x2f8c'5a1e'd3b9'7e64;

// The hypervisor is built with -fno-stack-protector, so this function has no
// canary of its own to trip over (clang 14 knows no_stack_protector too).
HYP_LIB_FN __attribute__((no_stack_protector, noreturn)) void __stack_chk_fail(void)
{
    hyp_panic("stack smashing detected");
}
