// PSCI call dispatch and the per-vCPU power state machine.
//
// State transitions and who makes them:
//   Off --CAS by a CPU_ON caller--> Claiming --store-release--> OnPending
//   OnPending --CAS by the target's pCPU (take_pending_on)--> On
//   On --CPU_OFF by the vCPU itself--> Off
// Only the CAS winner writes a vCPU's entry/context, and it publishes them
// with the release that makes the vCPU OnPending, so the target reads a
// matching pair no matter how many pCPUs race CPU_ON at it.
#include "psci/psci.h"

#include "log.h"
#include "psci/function_ids.h"

namespace psci {

namespace {

constexpr u32 kVersion_1_1 = 0x0001'0001;  // PSCI_VERSION: major[31:16], minor[15:0]

// MIGRATE_INFO_TYPE 2: no Trusted OS, or one that needs no migration.
constexpr u64 kMigrateNotRequired = 2;

// MPIDR affinity fields: Aff0 [7:0], Aff1 [15:8], Aff2 [23:16], Aff3 [39:32].
// MT, U and the RES1 bit say nothing about which CPU is meant.
constexpr u64 kAffinityMask = 0xFF'00FF'FFFF;
constexpr u64 kMaxAffinityLevel = 3;

// AFFINITY_INFO at level L names the node that contains the CPUs whose
// affinity fields from L upwards match, so the fields below L are ignored.
constexpr u64 level_mask(u64 level)
{
    constexpr u64 kBelow[] = {0, 0xFF, 0xFFFF, 0xFF'FFFF};
    return kAffinityMask & ~kBelow[level];
}

// CPU_SUSPEND power_state, original format: StateType is bit 16.
constexpr u64 kPowerStateTypePowerDown = bit(16);

constexpr u64 ret(Ret r) { return static_cast<u64>(static_cast<i64>(static_cast<i32>(r))); }
constexpr CallResult done(Ret r) { return {ret(r), Action::None}; }

} // namespace

void Psci::init(u32 nvcpus, const u64* vcpu_mpidr, Host* host)
{
    HYP_ASSERT(nvcpus >= 1 && nvcpus <= kMaxVcpus);
    HYP_ASSERT(host != nullptr);
    nvcpus_ = nvcpus;
    host_ = host;
    for (u32 i = 0; i < nvcpus; i++)
        vcpus_[i].affinity = vcpu_mpidr[i] & kAffinityMask;
    reset();
}

void Psci::reset()
{
    for (u32 i = 0; i < nvcpus_; i++) {
        vcpus_[i].entry = 0;
        vcpus_[i].context = 0;
        const VState s = i == 0 ? VState::On : VState::Off;
        __atomic_store_n(&vcpus_[i].state, static_cast<u32>(s), __ATOMIC_RELEASE);
    }
}

bool Psci::is_psci_call(u64 x0) const { return in_psci_range(static_cast<u32>(x0)); }

CallResult Psci::handle(u32 caller, u64 x0, u64 x1, u64 x2, u64 x3)
{
    HYP_ASSERT(caller < nvcpus_);
    // SMCCC: the function ID is w0; the upper half of x0 carries nothing.
    const u32 fid = static_cast<u32>(x0);
    if (!in_psci_range(fid)) {
        __atomic_fetch_add(&foreign_, u64{1}, __ATOMIC_RELAXED);
        return done(Ret::NotSupported);
    }
    __atomic_fetch_add(&counts_[function_number(fid)], u64{1}, __ATOMIC_RELAXED);

    // SMC32 arguments are W registers: the upper halves are not the caller's.
    if (!(fid & kSmc64Bit)) {
        x1 &= mask(32);
        x2 &= mask(32);
        x3 &= mask(32);
    }

    switch (static_cast<FnId>(fid)) {
    case FnId::Version:
        return {kVersion_1_1, Action::None};
    case FnId::CpuSuspend32:
    case FnId::CpuSuspend64:
        return cpu_suspend(x1, x2);
    case FnId::CpuOff:
        return cpu_off(caller);
    case FnId::CpuOn32:
    case FnId::CpuOn64:
        return cpu_on(x1, x2, x3);
    case FnId::AffinityInfo32:
    case FnId::AffinityInfo64:
        return affinity_info(x1, x2);
    case FnId::MigrateInfoType:
        return {kMigrateNotRequired, Action::None};
    case FnId::SystemOff:
        return {ret(Ret::Success), Action::SystemOff};
    case FnId::SystemReset:
        return {ret(Ret::Success), Action::SystemReset};
    case FnId::Features:
        return features(static_cast<u32>(x1));
    default:
        // MIGRATE and MIGRATE_INFO_UP_CPU are meaningless without a Trusted
        // OS to migrate; the PSCI 1.0+ optional functions are not offered.
        return done(Ret::NotSupported);
    }
}

CallResult Psci::features(u32 fid) const
{
    switch (static_cast<FnId>(fid)) {
    case FnId::CpuSuspend32:
    case FnId::CpuSuspend64:
        // Flags 0: original power_state format, platform-coordinated only.
    case FnId::Version:
    case FnId::CpuOff:
    case FnId::CpuOn32:
    case FnId::CpuOn64:
    case FnId::AffinityInfo32:
    case FnId::AffinityInfo64:
    case FnId::MigrateInfoType:
    case FnId::SystemOff:
    case FnId::SystemReset:
    case FnId::Features:
        return done(Ret::Success);
    default:
        return done(Ret::NotSupported);
    }
}

CallResult Psci::cpu_on(u64 target, u64 entry, u64 context)
{
    const int t = find_vcpu(target);
    if (t < 0)
        return done(Ret::InvalidParameters);
    if (!host_->valid_entry(entry))
        return done(Ret::InvalidAddress);

    Vcpu& v = vcpus_[t];
    u32 cur = __atomic_load_n(&v.state, __ATOMIC_RELAXED);
    for (;;) {
        // Only an Off vCPU can be turned on. One that another CPU_ON has
        // claimed is reported ALREADY_ON, not ON_PENDING: PSCI allows either,
        // KVM answers ALREADY_ON, and guests test for it, so exactly one
        // racer sees SUCCESS and every other one ALREADY_ON.
        if (static_cast<VState>(cur) != VState::Off)
            return done(Ret::AlreadyOn);
        // Acquire pairs with the target's CPU_OFF so nothing of this CPU_ON
        // is ordered before the target let go of the vCPU.
        if (__atomic_compare_exchange_n(&v.state, &cur, static_cast<u32>(VState::Claiming), false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            break;
        // Lost the race: `cur` now holds the winner's state.
    }

    v.entry = entry;
    v.context = context;
    __atomic_store_n(&v.state, static_cast<u32>(VState::OnPending), __ATOMIC_RELEASE);
    host_->wake(static_cast<u32>(t));
    return done(Ret::Success);
}

CallResult Psci::cpu_off(u32 caller)
{
    // Release: whatever the core did to retire this vCPU is visible to the
    // pCPU that wins the next CPU_ON on it.
    __atomic_store_n(&vcpus_[caller].state, static_cast<u32>(VState::Off), __ATOMIC_RELEASE);
    return {ret(Ret::Success), Action::PowerDown};
}

CallResult Psci::cpu_suspend(u64 power_state, u64 entry)
{
    // A power-down request may be served by a shallower state (DEN0022 lets
    // the implementation pick any state no deeper than asked for). Standby
    // keeps the vCPU's context, so the call simply returns SUCCESS on wake-up
    // instead of restarting at `entry`; there is no real power to save under
    // a hypervisor anyway. The entry point is still checked because the call
    // would have used it.
    if ((power_state & kPowerStateTypePowerDown) && !host_->valid_entry(entry))
        return done(Ret::InvalidAddress);
    return {ret(Ret::Success), Action::Standby};
}

CallResult Psci::affinity_info(u64 target, u64 level) const
{
    if (level > kMaxAffinityLevel)
        return done(Ret::InvalidParameters);
    const u64 m = level_mask(level);
    bool any = false, on = false, pending = false;
    for (u32 i = 0; i < nvcpus_; i++) {
        if ((vcpus_[i].affinity & m) != (target & m))
            continue;
        any = true;
        const PowerState s = state(i);
        on |= s == PowerState::On;
        pending |= s == PowerState::OnPending;
    }
    if (!any)
        return done(Ret::InvalidParameters);
    const PowerState agg = on ? PowerState::On : pending ? PowerState::OnPending : PowerState::Off;
    return {static_cast<u64>(agg), Action::None};
}

bool Psci::take_pending_on(u32 vcpu, u64& entry, u64& context)
{
    HYP_ASSERT(vcpu < nvcpus_);
    Vcpu& v = vcpus_[vcpu];
    u32 expected = static_cast<u32>(VState::OnPending);
    // Acquire pairs with cpu_on()'s release: entry/context are the winner's.
    if (!__atomic_compare_exchange_n(&v.state, &expected, static_cast<u32>(VState::On), false,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return false;
    entry = v.entry;
    context = v.context;
    return true;
}

Psci::VState Psci::load_state(u32 vcpu) const
{
    return static_cast<VState>(__atomic_load_n(&vcpus_[vcpu].state, __ATOMIC_ACQUIRE));
}

PowerState Psci::state(u32 vcpu) const
{
    HYP_ASSERT(vcpu < nvcpus_);
    switch (load_state(vcpu)) {
    case VState::On:
        return PowerState::On;
    case VState::Off:
        return PowerState::Off;
    case VState::OnPending:
    case VState::Claiming:
        break;
    }
    return PowerState::OnPending;
}

int Psci::find_vcpu(u64 mpidr) const
{
    const u64 aff = mpidr & kAffinityMask;
    for (u32 i = 0; i < nvcpus_; i++)
        if (vcpus_[i].affinity == aff)
            return static_cast<int>(i);
    return -1;
}

u64 Psci::call_count(u32 function_id) const
{
    if (!in_psci_range(function_id))
        return 0;
    return __atomic_load_n(&counts_[function_number(function_id)], __ATOMIC_RELAXED);
}

u64 Psci::foreign_count() const { return __atomic_load_n(&foreign_, __ATOMIC_RELAXED); }

} // namespace psci
