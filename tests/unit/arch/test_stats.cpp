// The exit table (hyp/vm/stats.cpp) reports what the counters behind it
// count: issue 12 defect 10 found PSCI's per-function counters kept and
// never shown.
#include "arch_fixture.h"
#include "vm/stats.h"

namespace {

class StatsTest : public ArchTest {
protected:
    // The guest on `v` calls the firmware with HVC #0, function `fid`.
    static void hvc(Vcpu& v, u64 fid, u64 x1 = 0, u64 x2 = 0, u64 x3 = 0)
    {
        v.regs.x[0] = fid;
        v.regs.x[1] = x1;
        v.regs.x[2] = x2;
        v.regs.x[3] = x3;
        handle_sync_exit(v, u64{0x16} << 26 | u64{1} << 25);
    }
};

TEST_F(StatsTest, ExitTableListsPsciCallsByFunction)
{
    Vm& vm = add_vm({0, 0});
    Pcpu& p = run_pcpu(0);
    start_all(p, vm);
    vm.vcpus[1].state = RunState::Off;
    ASSERT_EQ(pick(p), &vm.vcpus[0]);
    Vcpu& v = vm.vcpus[0];
    hvc(v, 0x8400'0000);                         // PSCI_VERSION
    hvc(v, 0x8400'000a, 0xc400'0003);            // PSCI_FEATURES(CPU_ON)
    hvc(v, 0xc400'0003, 1, kRamIpa + 0x1000, 0); // CPU_ON vCPU 1 (SMC64)
    hvc(v, 0x8400'0003, 1, kRamIpa + 0x1000, 0); // again, SMC32: ALREADY_ON or ON_PENDING
    hvc(v, 0x8000'0000);                         // SMCCC_VERSION: not PSCI
    testing::internal::CaptureStderr();
    print_vm_exit_stats(vm);
    const std::string out = testing::internal::GetCapturedStderr();
    const auto line_at = out.find("PSCI calls");
    ASSERT_NE(line_at, std::string::npos) << out;
    const std::string line = out.substr(line_at, out.find('\n', line_at) - line_at);
    EXPECT_NE(line.find(" PSCI_VERSION=1"), std::string::npos) << line;
    EXPECT_NE(line.find(" PSCI_FEATURES=1"), std::string::npos) << line;
    EXPECT_NE(line.find(" CPU_ON=2"), std::string::npos) << "SMC32 and SMC64 forms together: " << line;
    EXPECT_NE(line.find(" other-SMCCC=1"), std::string::npos) << line;
    EXPECT_EQ(line.find("CPU_OFF"), std::string::npos) << "functions never called are left out: " << line;
    // The HVC/SMC row above it counts the same calls.
    EXPECT_EQ(v.stats.hvc, 5u);
}

} // namespace
