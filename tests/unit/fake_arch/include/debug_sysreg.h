// Fake breakpoint/watchpoint register accessors (host tests).
#pragma once
#include "sysreg.h"

inline u64 read_dbgbvr(unsigned) { return 0; }
inline u64 read_dbgbcr(unsigned) { return 0; }
inline u64 read_dbgwvr(unsigned) { return 0; }
inline u64 read_dbgwcr(unsigned) { return 0; }
inline void write_dbgbvr(unsigned, u64) {}
inline void write_dbgbcr(unsigned, u64) {}
inline void write_dbgwvr(unsigned, u64) {}
inline void write_dbgwcr(unsigned, u64) {}
