/* The subset of <string.h> the hypervisor provides on the target (hyp/lib).
 * libfdt's libfdt_env.h includes this header, so it stays valid C as well as
 * C++. The host build never sees it: host code uses the system header. */
#ifndef HYP_LIB_STRING_H
#define HYP_LIB_STRING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void* memcpy(void* __restrict dst, const void* __restrict src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
void* memchr(const void* s, int c, size_t n);
size_t strlen(const char* s);
size_t strnlen(const char* s, size_t max);
char* strchr(const char* s, int c);
char* strrchr(const char* s, int c);

#ifdef __cplusplus
}
#endif

#endif /* HYP_LIB_STRING_H */
