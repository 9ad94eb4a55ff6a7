// The AArch64 state a vCPU owns beyond its general registers: kept in the
// hardware while it runs, saved here while another vCPU has its pCPU.
#pragma once
#include "context.h"
#include "frame.h"

struct VcpuArch {
    El1Context el1{};
    FpContext fp{};
    PacContext pac{};
    SveContext sve{};
    PmuContext pmu{};
    TimerGicContext tg{};
};
