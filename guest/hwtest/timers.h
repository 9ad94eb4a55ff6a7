// The EL1 physical timer (CNTP_*, PPI 30) and virtual timer (CNTV_*,
// PPI 27) behind one interface, so each timer test exists for both.
#pragma once
#include "hw.h"
#include "sysreg.h"

constexpr u64 kTimerEnable = bit(0);
constexpr u64 kTimerImask = bit(1);
constexpr u64 kTimerIstatus = bit(2);

struct Ptimer {
    static constexpr const char* kName = "CNTP";
    static constexpr u32 kPpi = hw::kPtimerPpi;
    static constexpr u32 kCtlSlot = 1;  // Cpu::timer_ctl_at_irq
    static u64 count() { return cntpct(); }
    static u64 ctl() { return MRS("cntp_ctl_el0"); }
    static u64 cval() { return MRS("cntp_cval_el0"); }
    static i32 tval() { return static_cast<i32>(MRS("cntp_tval_el0")); }
    static void set_ctl(u64 v) { MSR("cntp_ctl_el0", v); isb(); }
    static void set_cval(u64 v) { MSR("cntp_cval_el0", v); isb(); }
    static void set_tval(i32 v) { MSR("cntp_tval_el0", static_cast<u64>(static_cast<i64>(v))); isb(); }
};

struct Vtimer {
    static constexpr const char* kName = "CNTV";
    static constexpr u32 kPpi = hw::kVtimerPpi;
    static constexpr u32 kCtlSlot = 0;
    static u64 count() { return cntvct(); }
    static u64 ctl() { return MRS("cntv_ctl_el0"); }
    static u64 cval() { return MRS("cntv_cval_el0"); }
    static i32 tval() { return static_cast<i32>(MRS("cntv_tval_el0")); }
    static void set_ctl(u64 v) { MSR("cntv_ctl_el0", v); isb(); }
    static void set_cval(u64 v) { MSR("cntv_cval_el0", v); isb(); }
    static void set_tval(i32 v) { MSR("cntv_tval_el0", static_cast<u64>(static_cast<i64>(v))); isb(); }
};
