// Software state of one virtual interrupt. Pending is split by source so no
// event is lost while part of it sits in a list register: `latch` holds edges
// and ISPENDR writes not yet handed to the guest, `line` is the device level,
// and `lr_pending` is the pending state the guest currently sees in an LR.
#pragma once
#include "types.h"

namespace vgic {

constexpr u8 kNoVcpu = 0xff;
constexpr u8 kNoLr = 0xff;

// Priority bits the virtual CPU interface implements (ICH_VTR_EL2.PRIbits
// is 5 on QEMU): storing only these keeps our ordering equal to the
// hardware's, which ignores the low bits of the LR priority.
constexpr u8 kPriorityMask = 0xf8;

struct IrqState {
    u64 irouter = 0; // SPIs: raw GICD_IROUTER (masked to writable bits)
    u8 priority = 0;
    u8 target = 0;              // SPIs: vCPU that irouter resolves to, or kNoVcpu
    u8 res_vcpu = kNoVcpu;      // residency: vCPU whose LR holds it
    u8 res_lr = kNoLr;          //            and which LR
    bool enabled = false;
    bool group1 = false;
    bool edge = false;          // ICFGR: edge-triggered (else level)
    bool hw = false;            // inject with HW=1, pINTID = vINTID
    bool latch = false;
    bool line = false;
    bool active = false;        // mirrors the LR while resident
    bool lr_pending = false;    // pending state handed to the guest
    bool lr_from_latch = false; // lr_pending came from the latch: give it back on withdrawal

    constexpr bool resident() const { return res_vcpu != kNoVcpu; }
    // Pending from a source that has not been placed in an LR yet.
    constexpr bool source_pending() const { return latch || (!edge && line); }
    // GICD_ISPENDR view: any pending state, wherever it lives.
    constexpr bool pending() const { return source_pending() || lr_pending; }
};

} // namespace vgic
