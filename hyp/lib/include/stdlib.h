/* The subset of <stdlib.h> the hypervisor provides on the target (hyp/lib):
 * only what libfdt needs. No heap, no errno. */
#ifndef HYP_LIB_STDLIB_H
#define HYP_LIB_STDLIB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Standard semantics except that overflow is reported only by returning
 * ULONG_MAX (there is no errno). */
unsigned long strtoul(const char* __restrict s, char** __restrict end, int base);

#ifdef __cplusplus
}
#endif

#endif /* HYP_LIB_STDLIB_H */
