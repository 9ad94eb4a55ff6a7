// The exit path's trace points (hyp/trace): what needs a register read or a
// comparison to record, kept out of run.cpp so that with tracing off the
// exit path pays one load and a branch per point.
#pragma once
#include "sysreg_list.h"
#include "types.h"
#include "vgic/list_regs.h"

struct Vcpu;

// A synchronous or other exit of `v` (ExitSync / ExitOther): the syndrome
// and what it concerns (the IPA of an abort, x0 of a call).
void trace_exit(const Vcpu& v, u64 kind, u64 esr);
// The guest's own list-register transitions since its entry: `at_entry` is
// what the hardware held then, `now` what it holds (IrqAck, IrqDone).
void trace_lr_changes(const Vcpu& v, const u64* at_entry, const vgic::LrFile& now);
// Interrupts newly placed in list registers for this entry (IrqDeliver).
void trace_lr_delivered(const Vcpu& v, const u64* before, const vgic::LrFile& now);
