// PSCI 1.1 (Arm DEN0022) as seen by the guest: a per-vCPU power state machine
// driven by the guest's SMC/HVC calls. The core traps the call, hands the
// registers to Psci::handle() and carries out the returned Action; the target
// side of CPU_ON polls take_pending_on() from its idle loop after wake().
//
// Every method is safe to call concurrently from any pCPU except init() and
// reset(), which the core calls while no vCPU runs (boot, SYSTEM_RESET).
#pragma once
#include "config.h"
#include "types.h"

namespace psci {

enum class Ret : i32 {
    Success = 0,             // SUCCESS
    NotSupported = -1,       // NOT_SUPPORTED
    InvalidParameters = -2,  // INVALID_PARAMETERS
    Denied = -3,             // DENIED
    AlreadyOn = -4,          // ALREADY_ON
    OnPending = -5,          // ON_PENDING
    InternalFailure = -6,    // INTERNAL_FAILURE
    NotPresent = -7,         // NOT_PRESENT
    Disabled = -8,           // DISABLED
    InvalidAddress = -9,     // INVALID_ADDRESS
};

// Values as AFFINITY_INFO returns them.
enum class PowerState : u32 { On = 0, Off = 1, OnPending = 2 };

enum class Action : u8 {
    None,
    PowerDown,   // caller executed CPU_OFF: stop running it until take_pending_on()
    Standby,     // CPU_SUSPEND: block like WFI, then return x0
    SystemOff,
    SystemReset,
};

struct CallResult {
    u64 x0;
    Action action;
};

// What PSCI needs from the rest of the hypervisor.
class Host {
public:
    // Whether `ipa` is a plausible entry point, i.e. inside guest RAM.
    virtual bool valid_entry(u64 ipa) = 0;
    // `vcpu` just became ON_PENDING: make its pCPU call take_pending_on().
    virtual void wake(u32 vcpu) = 0;

protected:
    ~Host() = default;
};

class Psci {
public:
    constexpr Psci() = default;
    Psci(const Psci&) = delete;
    Psci& operator=(const Psci&) = delete;

    // vcpu_mpidr[i] is vCPU i's MPIDR_EL1 (only the affinity fields matter).
    void init(u32 nvcpus, const u64* vcpu_mpidr, Host* host);
    // vCPU 0 On, every other vCPU Off. Counters are kept across resets.
    void reset();

    // One SMCCC call from `caller`: function ID in w0, arguments in x1..x3.
    CallResult handle(u32 caller, u64 x0, u64 x1, u64 x2, u64 x3);

    // Target side of CPU_ON: if `vcpu` is ON_PENDING, make it On and return
    // the entry point and context ID the guest passed (start at `entry` with
    // x0 = `context`, MMU and caches off, as after a warm reset).
    bool take_pending_on(u32 vcpu, u64& entry, u64& context);

    PowerState state(u32 vcpu) const;
    bool is_psci_call(u64 x0) const;

    // Calls per PSCI function; the SMC32 and SMC64 forms are counted together.
    u64 call_count(u32 function_id) const;
    // Calls whose function ID is outside the PSCI ranges (e.g. SMCCC_VERSION).
    u64 foreign_count() const;

private:
    // Claiming is CPU_ON's private window between winning the target and
    // publishing its arguments; AFFINITY_INFO reports it as ON_PENDING and
    // CPU_ON as ALREADY_ON.
    enum class VState : u32 { On = 0, Off = 1, OnPending = 2, Claiming = 3 };
    static constexpr u32 kCounters = 0x20;

    struct Vcpu {
        u64 affinity;  // MPIDR affinity fields only
        u64 entry;     // CPU_ON arguments, valid while Claiming..OnPending
        u64 context;
        u32 state;     // a VState; a plain u32 so the __atomic builtins take it
    };

    CallResult cpu_on(u64 target, u64 entry, u64 context);
    CallResult cpu_off(u32 caller);
    CallResult cpu_suspend(u64 power_state, u64 entry);
    CallResult affinity_info(u64 target, u64 level) const;
    CallResult features(u32 fid) const;

    int find_vcpu(u64 mpidr) const;
    VState load_state(u32 vcpu) const;

    Vcpu vcpus_[kMaxVcpus]{};
    u32 nvcpus_ = 0;
    Host* host_ = nullptr;
    u64 counts_[kCounters]{};
    u64 foreign_ = 0;
};

} // namespace psci
