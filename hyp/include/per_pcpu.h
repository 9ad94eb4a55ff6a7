// One entry per physical CPU, indexed by the pCPU index (Pcpu::id), never by
// an MPIDR affinity field: those need not be small or dense (a cluster can
// start its Aff0 at 0x100, or number its cores sparsely). An index out of
// range is a panic that names it, not a write past the table.
#pragma once
#include "config.h"
#include "log.h"
#include "types.h"

template <typename T>
class PerPcpu {
public:
    constexpr PerPcpu() = default;

    T& operator[](u32 pcpu) { return v_[checked(pcpu)]; }
    const T& operator[](u32 pcpu) const { return v_[checked(pcpu)]; }
    static constexpr u32 size() { return kMaxPcpus; }

private:
    static u32 checked(u32 pcpu)
    {
        if (pcpu >= kMaxPcpus) [[unlikely]]
            hyp_panic("pCPU index %u out of range: at most %u pCPUs (kMaxPcpus in config.h)", pcpu, kMaxPcpus);
        return pcpu;
    }

    T v_[kMaxPcpus]{};
};
