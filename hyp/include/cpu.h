// Generic (host) CPU hints, used by the host unit tests. On the target,
// hyp/arch/aarch64/include/cpu.h overrides this header through the include
// path. Host threads may outnumber host cores, so waiting yields the core:
// a ticket lock whose next owner is descheduled would otherwise spin a whole
// time slice per hand-off.
#pragma once

extern "C" int sched_yield() noexcept;

inline void cpu_relax() { sched_yield(); }
inline void cpu_wait_event() { sched_yield(); }
inline void cpu_send_event() {}
