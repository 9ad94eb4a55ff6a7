// Timer interrupts are level-sensitive (Arm ARM D11.2.3; the GIC's PPIs for
// them are configured level in GICR_ICFGR1): the interrupt is pending
// exactly while the timer condition holds and it is not masked by
// CNTx_CTL.IMASK. A pending bit that outlives the condition is a latched
// edge, which real hardware and KVM never show; a guest that unmasks or
// enables the PPI after the condition dropped must get no interrupt.
#include "harness.h"
#include "smp.h"
#include "tests.h"
#include "timers.h"

namespace {

enum class Gate { PpiDisabled, IrqMasked };

template <typename T, Gate kGate> void level(Test& t)
{
    const u32 me = t.id;
    const u32 ppi = T::kPpi;
    irq_disable();
    T::set_ctl(0);
    if (kGate == Gate::PpiDisabled)
        gic::disable_ppi(me, ppi);
    else
        gic::enable_ppi(me, ppi);
    gic::clear_pending(me, ppi);
    const u32 before = irq_count(ppi);
    // An emulated timer raises or drops its line from a host timer callback:
    // allow 100 ms for the pending state to follow.
    auto settles_to = [&](bool want) { return poll_until([&] { return gic::pending(me, ppi) == want; }, 100'000); };
    const char* gate = kGate == Gate::PpiDisabled ? "PPI disabled" : "PSTATE.I masked";

    struct Step {
        u64 ctl;
        bool pending;
        const char* fails;
    };
    const Step steps[] = {
        {kTimerEnable, true, "expired (ENABLE=1, IMASK=0) but GICR_ISPENDR0 does not show it pending"},
        {kTimerEnable | kTimerImask, false, "IMASK=1 dropped the condition but it stays pending (latched like an edge)"},
        {kTimerEnable, true, "IMASK=0 again but it is not pending"},
        {0, false, "ENABLE=0 dropped the condition but it stays pending"},
    };
    T::set_cval(T::count() - 1000);
    bool steps_ok = true;
    for (const Step& s : steps) {
        T::set_ctl(s.ctl);
        if (!t.check(settles_to(s.pending), "%s: %s (INTID %u) %s", gate, T::kName, ppi, s.fails)) {
            steps_ok = false;
            break;
        }
    }
    T::set_ctl(0);

    // The condition is gone: opening the gate must deliver nothing.
    gic::enable_ppi(me, ppi);
    irq_enable();
    spin_us(10'000);
    irq_disable();
    const u32 taken = irq_count(ppi) - before;
    if (steps_ok)
        t.check(taken == 0, "%s: INTID %u taken %u times after the timer condition had dropped", gate, ppi, taken);
    if (ppi != hw::kVtimerPpi)
        gic::disable_ppi(me, ppi);  // the virtual timer stays enabled: wait_until's wake-up
    gic::clear_pending(me, ppi);
}

} // namespace

void test_vtimer_level_ppi_disabled(Test& t) { level<Vtimer, Gate::PpiDisabled>(t); }
void test_vtimer_level_irq_masked(Test& t) { level<Vtimer, Gate::IrqMasked>(t); }
void test_ptimer_level_ppi_disabled(Test& t) { level<Ptimer, Gate::PpiDisabled>(t); }
void test_ptimer_level_irq_masked(Test& t) { level<Ptimer, Gate::IrqMasked>(t); }
