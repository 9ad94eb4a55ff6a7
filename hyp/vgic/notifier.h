// How the vgic tells the core that a vCPU has something new to deliver.
#pragma once
#include "types.h"

namespace vgic {

class Notifier {
public:
    // Called without any vgic lock held. The core decides whether `vcpu`
    // needs a physical SGI (it runs on another pCPU) or just a flush before
    // its next entry. May be called for a vCPU that has nothing new: kicks
    // are hints, the state is re-read under the locks at flush.
    virtual void kick(u32 vcpu) = 0;
    // The guest is about to read `vcpu`'s pending or active state
    // (GICR_ISPENDR0 and friends): lines whose level lives elsewhere (the
    // timers' outputs) should be brought up to date first. Called without
    // any vgic lock held.
    virtual void sample_lines(u32 /*vcpu*/) {}

protected:
    ~Notifier() = default;
};

} // namespace vgic
