// Per-pCPU tables (per_pcpu.h): indexed by the pCPU index, with the bound
// checked. The physical GIC driver keeps each pCPU's redistributor in one;
// it used to index a bare array by MPIDR Aff0, which nothing bounded.
#include <gtest/gtest.h>

#include "per_pcpu.h"

static_assert(PerPcpu<u64>::size() == kMaxPcpus);

TEST(PerPcpu, OneEntryPerPcpu)
{
    PerPcpu<u64> t;
    for (u32 i = 0; i < kMaxPcpus; i++)
        EXPECT_EQ(t[i], 0u) << "zero-initialised";
    for (u32 i = 0; i < kMaxPcpus; i++)
        t[i] = 0x080a'0000 + 0x2'0000 * i;
    const PerPcpu<u64>& c = t;
    for (u32 i = 0; i < kMaxPcpus; i++)
        EXPECT_EQ(c[i], 0x080a'0000 + 0x2'0000 * i);
}

TEST(PerPcpuDeathTest, IndexOutOfRangeIsAPanicNamingIt)
{
    PerPcpu<u64> t;
    EXPECT_DEATH(t[kMaxPcpus] = 1, "pCPU index 4 out of range: at most 4 pCPUs");
    // An MPIDR affinity value used by mistake (Aff1 = 1: a second cluster).
    EXPECT_DEATH(t[0x100] = 1, "pCPU index 256 out of range");
    const PerPcpu<u64>& c = t;
    EXPECT_DEATH((void)c[~0u], "out of range");
}
