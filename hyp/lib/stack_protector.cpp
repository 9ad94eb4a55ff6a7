// Stack-protector support: libfdt.a (Debian's build) is compiled with
// -fstack-protector-strong and references these two symbols.
#include "lib_attrs.h"
#include "log.h"
#include "types.h"

// Constant-initialised so it is valid before any C++ code runs. Boot code
// may replace it with a random value, but only from a function that has no
// canary in its own frame (or before the first protected call).
extern "C" __attribute__((used)) uptr __stack_chk_guard = 0x2f8c'5a1e'd3b9'7e64;

#if __has_attribute(no_stack_protector)
#define HYP_NO_STACK_PROTECTOR __attribute__((no_stack_protector))
#else
#define HYP_NO_STACK_PROTECTOR
#endif

HYP_LIB_FN HYP_NO_STACK_PROTECTOR __attribute__((noreturn)) void __stack_chk_fail(void)
{
    hyp_panic("stack smashing detected");
}
