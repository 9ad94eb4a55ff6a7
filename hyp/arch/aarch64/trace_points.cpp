// See trace_points.h.
#include "trace_points.h"

#include "frame.h"
#include "hw_regs.h"
#include "sysreg.h"
#include "trace/trace.h"
#include "vgic/regs.h"
#include "vm/vcpu.h"

namespace {
u32 vintid(u64 lr) { return static_cast<u32>(lr & 0xffff'ffff); }
} // namespace

void trace_exit(const Vcpu& v, u64 kind, u64 esr)
{
    if (kind != EXIT_SYNC) {
        if (trace::on(TraceType::ExitOther))
            trace::emit(TraceType::ExitOther, &v, static_cast<u32>(kind), esr, 0);
        return;
    }
    if (!trace::on(TraceType::ExitSync))
        return;
    const auto ec = static_cast<esr::Ec>(esr::ec(esr));
    u64 what = 0;
    if (ec == esr::Ec::DabtLow || ec == esr::Ec::IabtLow)
        what = ((read_hpfar_el2() >> 4) << 12) | (read_far_el2() & 0xfff);
    else if (ec == esr::Ec::Hvc64 || ec == esr::Ec::Smc64)
        what = v.regs.x[0];
    trace::emit(TraceType::ExitSync, &v, static_cast<u32>(esr::ec(esr)), esr, what);
}

void trace_lr_changes(const Vcpu& v, const u64* at_entry, const vgic::LrFile& now)
{
    for (unsigned i = 0; i < now.num && i < kMaxHwListRegs; i++) {
        const u8 was = vgic::lr_state(at_entry[i]);
        const u8 is = vgic::lr_state(now.lr[i]);
        const u32 id = vintid(at_entry[i]);
        // Pending before, and no longer pending: the guest took it.
        if ((was & vgic::kStatePending) && !(is & vgic::kStatePending))
            trace_event(TraceType::IrqAck, &v, id);
        // Active or pending before, and neither now: the guest finished it.
        if (was && !is)
            trace_event(TraceType::IrqDone, &v, id);
    }
}

void trace_lr_delivered(const Vcpu& v, const u64* before, const vgic::LrFile& now)
{
    for (unsigned i = 0; i < now.num && i < kMaxHwListRegs; i++) {
        const bool pending = vgic::lr_state(now.lr[i]) & vgic::kStatePending;
        const bool was = (vgic::lr_state(before[i]) & vgic::kStatePending) && vintid(before[i]) == vintid(now.lr[i]);
        if (pending && !was)
            trace_event(TraceType::IrqDeliver, &v, vintid(now.lr[i]), i);
    }
}
