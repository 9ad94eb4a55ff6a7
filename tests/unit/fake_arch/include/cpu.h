// Fake CPU hints and barriers for host tests of arch code (overrides both
// hyp/include/cpu.h and hyp/arch/aarch64/include/cpu.h). Waiting for an
// interrupt is a hook a test can observe.
#pragma once
#include "types.h"

extern "C" int sched_yield() noexcept;

namespace fake {
extern unsigned wfi_count;
}

inline void cpu_relax() { sched_yield(); }
inline void cpu_wait_event() { sched_yield(); }
inline void cpu_send_event() {}
inline void cpu_wait_interrupt() { fake::wfi_count++; }
inline void isb() {}
inline void dsb_sy() {}
inline void dsb_ish() {}
inline void dsb_ishst() {}
inline void sync_icache(u64, u64) {}
