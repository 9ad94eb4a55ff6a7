// Reads the ID register space once at boot for the feature policy
// (core/cpu_features.h). The registers are named by their generic
// encodings: several are unknown to the baseline -march, and the reserved
// ones in CRm 1..7 read as zero.
#include "cpu_features_arch.h"

#include "core/cpu_features.h"

namespace {

#define ID_MRS(crm, op2)                                                                  \
    [] {                                                                                  \
        u64 v;                                                                            \
        __asm__ volatile("mrs %0, s3_0_c0_c" #crm "_" #op2 : "=r"(v));                   \
        return v;                                                                         \
    }()
#define ID_ROW(crm)                                                                       \
    {ID_MRS(crm, 0), ID_MRS(crm, 1), ID_MRS(crm, 2), ID_MRS(crm, 3),                      \
     ID_MRS(crm, 4), ID_MRS(crm, 5), ID_MRS(crm, 6), ID_MRS(crm, 7)}

} // namespace

void cpu_features_init()
{
    const cpufeat::IdSpace hw{{{}, ID_ROW(1), ID_ROW(2), ID_ROW(3), ID_ROW(4), ID_ROW(5), ID_ROW(6), ID_ROW(7)}};
    cpufeat::init(hw);
}
