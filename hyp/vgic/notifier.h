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

protected:
    ~Notifier() = default;
};

} // namespace vgic
