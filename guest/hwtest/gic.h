// The guest's GICv3: distributor setup, its own redistributor, the CPU
// interface system registers, and SGIs through ICC_SGI1R_EL1.
#pragma once
#include "hw.h"
#include "base.h"

namespace gic {

void dist_init();                // primary, once
void cpu_init(u32 cpu);          // every vCPU at start: wake its redistributor, SGIs on

inline uptr rd_frame(u32 cpu) { return hw::kGicr + cpu * hw::kGicrStride; }
inline uptr sgi_reg(u32 cpu, GicrSgi r) { return rd_frame(cpu) + hw::kGicrSgiFrame + static_cast<u32>(r); }

// Bit `intid` of a bank register of `cpu`'s SGI frame.
void set_bit(u32 cpu, GicrSgi reg, u32 intid);
bool test_bit(u32 cpu, GicrSgi reg, u32 intid);

inline void enable_ppi(u32 cpu, u32 intid) { set_bit(cpu, GicrSgi::Isenabler0, intid); }
inline void disable_ppi(u32 cpu, u32 intid) { set_bit(cpu, GicrSgi::Icenabler0, intid); }
inline bool pending(u32 cpu, u32 intid) { return test_bit(cpu, GicrSgi::Ispendr0, intid); }
inline void clear_pending(u32 cpu, u32 intid) { set_bit(cpu, GicrSgi::Icpendr0, intid); }

// ICC_SGI1R_EL1 value for SGI `intid` to the vCPUs in `targets` (bit n =
// Aff0 n, Aff1-3 = 0), or to everyone but the sender (IRM = 1).
constexpr u64 sgi1r_value(u32 intid, u32 targets) { return u64{intid & 15} << 24 | (targets & 0xffff); }
constexpr u64 sgi1r_broadcast(u32 intid) { return u64{intid & 15} << 24 | bit(40); }
void send_sgi(u32 intid, u32 targets);

} // namespace gic
