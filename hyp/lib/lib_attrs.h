// Attributes shared by the hyp/lib implementation files (not a public header).
#pragma once

// These functions ARE the builtins: without this clang may recognise a copy
// or fill loop and compile it into a call to memcpy/memset, i.e. into
// infinite recursion. The Makefile also builds hyp/lib with -fno-builtin;
// the attribute keeps the files correct even if that flag is lost.
#if defined(__clang__)
#define HYP_NO_BUILTIN __attribute__((no_builtin))
#else
#define HYP_NO_BUILTIN
#endif

#define HYP_LIB_FN extern "C" HYP_NO_BUILTIN __attribute__((used))
