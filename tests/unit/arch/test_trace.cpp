// The event trace (hyp/trace) on the fake architecture: the event filter,
// what the scheduler and the exit path record, the rings' overflow, and the
// dump's layout (trace_format.h), which scripts/trace.py decodes.
#include <cstring>

#include "arch_fixture.h"
#include "trace/trace.h"
#include "vm/arch.h"
#include "vm/lifecycle.h"

namespace {

using fake::ms;
using fake::us;

constexpr u32 bit_of(TraceType t) { return 1u << static_cast<u32>(t); }

// A decoded dump (what scripts/trace.py reads).
struct Dump {
    TraceDumpHeader h{};
    std::vector<TraceName> names;
    struct Pcpu {
        TracePcpuHeader h;
        std::vector<TraceRecord> recs;
    };
    std::vector<Pcpu> pcpus;
};

Dump decode(const std::vector<u8>& b)
{
    Dump d;
    usize o = 0;
    auto take = [&](void* dst, usize n) {
        EXPECT_LE(o + n, b.size()) << "the dump ends early";
        if (o + n <= b.size())
            std::memcpy(dst, b.data() + o, n);
        o += n;
    };
    take(&d.h, sizeof d.h);
    d.names.resize(d.h.nnames);
    for (TraceName& n : d.names)
        take(&n, sizeof n);
    for (u32 p = 0; p < d.h.npcpus && o < b.size(); p++) {
        Dump::Pcpu pc{};
        take(&pc.h, sizeof pc.h);
        pc.recs.resize(pc.h.count);
        for (TraceRecord& r : pc.recs)
            take(&r, sizeof r);
        d.pcpus.push_back(pc);
    }
    EXPECT_EQ(o, b.size()) << "bytes after the last pCPU's records";
    return d;
}

class TraceTest : public ArchTest {
protected:
    Dump dump_now()
    {
        fake::hw().trace_out.clear();
        arch::trace_dump("test");
        return decode(fake::hw().trace_out);
    }
    static std::vector<TraceRecord> of_type(const Dump::Pcpu& p, TraceType t)
    {
        std::vector<TraceRecord> out;
        for (const TraceRecord& r : p.recs)
            if (r.type == static_cast<u16>(t))
                out.push_back(r);
        return out;
    }
};

TEST_F(TraceTest, EventFilterNamesEveryTypeAndRejectsUnknownNames)
{
    u32 mask = 0;
    ASSERT_TRUE(trace::parse_events("all", mask));
    for (u32 t = static_cast<u32>(TraceType::GuestEnter); t <= static_cast<u32>(TraceType::VmState); t++) {
        EXPECT_TRUE(mask & (1u << t)) << "all leaves out type " << t;
        EXPECT_STRNE(trace::type_name(static_cast<TraceType>(t)), "?") << "type " << t << " has no name";
    }
    EXPECT_FALSE(mask & 1u) << "bit 0 is no event";
    ASSERT_TRUE(trace::parse_events("SwitchIn,SgiSend", mask));
    EXPECT_EQ(mask, bit_of(TraceType::SwitchIn) | bit_of(TraceType::SgiSend));
    EXPECT_FALSE(trace::parse_events("SwitchIn,Bogus", mask));
    EXPECT_FALSE(trace::parse_events("switchin", mask)) << "names are case-sensitive, as documented";
    EXPECT_FALSE(trace::parse_events("", mask)) << "an empty filter would record nothing";
    EXPECT_FALSE(trace::parse_events("SwitchInX", mask)) << "a prefix match is no match";
}

TEST_F(TraceTest, OffRecordsNothing)
{
    Vm& vm = add_vm({0, 0});
    fake::hw().trace_records = 16;
    trace::start(0, 1); // rings, but no events
    Pcpu& p = run_pcpu(0);
    start_all(p, vm);
    ASSERT_EQ(pick(p), &vm.vcpus[0]);
    ipi(vm.vcpus[0], vm.vcpus[1]);
    const Dump d = dump_now();
    ASSERT_EQ(d.pcpus.size(), 1u);
    EXPECT_EQ(d.pcpus[0].h.count, 0u);
    EXPECT_EQ(d.h.events, 0u);
}

TEST_F(TraceTest, SchedulerRecordsSwitchesWithTheirCauseAndTheVmOfEach)
{
    add_vm({1});
    Vm& vm = add_vm({0, 0}); // VM 1: both vCPUs time-shared on pCPU 0
    g_options.timeslice_ms = 10;
    u32 all = 0;
    ASSERT_TRUE(trace::parse_events("all", all));
    trace::start(all, 2);
    Pcpu& p = run_pcpu(0);
    start_all(p, vm);
    ASSERT_EQ(pick(p), &vm.vcpus[0]);
    fake::advance(ms(10));
    ASSERT_EQ(pick(p), &vm.vcpus[1]); // slice end
    sched_block(vm.vcpus[1]);         // WFI with nothing pending
    ASSERT_EQ(pick(p), &vm.vcpus[0]);
    ipi(vm.vcpus[0], vm.vcpus[1], 3); // wakes vCPU 1, which runs out of turn
    ASSERT_EQ(pick(p), &vm.vcpus[1]);

    const Dump d = dump_now();
    ASSERT_EQ(d.pcpus.size(), 2u);
    const auto& p0 = d.pcpus[0];
    struct Sw {
        u16 type;
        u8 vcpu;
        u32 why;
    };
    std::vector<Sw> got;
    for (const TraceRecord& r : p0.recs)
        if (r.type == static_cast<u16>(TraceType::SwitchIn) || r.type == static_cast<u16>(TraceType::SwitchOut)) {
            EXPECT_EQ(r.vm, 1u) << "records name their VM";
            got.push_back({r.type, r.vcpu, r.a});
        }
    const u16 in = static_cast<u16>(TraceType::SwitchIn), out = static_cast<u16>(TraceType::SwitchOut);
    const std::vector<std::tuple<u16, u8, TraceSwitch>> want = {
        {in, 0, TraceSwitch::First},
        {out, 0, TraceSwitch::Turn}, {in, 1, TraceSwitch::Turn},
        {out, 1, TraceSwitch::Block}, {in, 0, TraceSwitch::Block},
        {out, 0, TraceSwitch::Boost}, {in, 1, TraceSwitch::Boost},
    };
    ASSERT_EQ(got.size(), want.size());
    for (usize i = 0; i < want.size(); i++) {
        EXPECT_EQ(got[i].type, std::get<0>(want[i])) << "switch " << i;
        EXPECT_EQ(got[i].vcpu, std::get<1>(want[i])) << "switch " << i;
        EXPECT_EQ(got[i].why, static_cast<u32>(std::get<2>(want[i]))) << "switch " << i;
    }
    const auto blocks = of_type(p0, TraceType::Block);
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_EQ(blocks[0].vcpu, 1u);
    const auto sends = of_type(p0, TraceType::SgiSend);
    ASSERT_EQ(sends.size(), 1u);
    EXPECT_EQ(sends[0].vcpu, 0u);
    EXPECT_EQ(sends[0].a, 3u) << "the SGI's INTID";
    EXPECT_EQ(sends[0].b, 1u << 1) << "its targets, as a vCPU mask";
    for (usize i = 1; i < p0.recs.size(); i++)
        EXPECT_LE(p0.recs[i - 1].ts, p0.recs[i].ts) << "time-stamps go forward on a pCPU";
    EXPECT_EQ(d.pcpus[1].h.count, 0u) << "pCPU 1 ran nothing";
}

TEST_F(TraceTest, IpiToAnotherPcpuRecordsTheKickOnBothSides)
{
    Vm& vm = add_vm({0, 1});
    u32 all = 0;
    ASSERT_TRUE(trace::parse_events("all", all));
    trace::start(all, 2);
    Pcpu& p1 = run_pcpu(1);
    start_all(p1, vm);
    ASSERT_EQ(pick(p1), &vm.vcpus[1]);
    sched_block(vm.vcpus[1]);
    Pcpu& p0 = run_pcpu(0);
    start_all(p0, vm);
    ASSERT_EQ(pick(p0), &vm.vcpus[0]);
    ipi(vm.vcpus[0], vm.vcpus[1], 5);
    as_pcpu(1);
    ASSERT_EQ(pick(p1), &vm.vcpus[1]);

    const Dump d = dump_now();
    const auto kicks = of_type(d.pcpus[0], TraceType::KickSend);
    ASSERT_EQ(kicks.size(), 1u);
    EXPECT_EQ(kicks[0].a, 1u) << "kick to pCPU 1";
    EXPECT_EQ(kicks[0].vcpu, 0u) << "sent while vCPU 0 was loaded";
    // The target may take the SGI on its own pCPU (IrqDeliver) while the
    // sender is still in send_sgi: the send must already be in the trace,
    // before the kick, or trace.py --check sees a delivery without a send.
    const auto& r0 = d.pcpus[0].recs;
    const auto at = [&](TraceType t) {
        for (usize i = 0; i < r0.size(); i++)
            if (r0[i].type == static_cast<u16>(t))
                return static_cast<int>(i);
        return -1;
    };
    ASSERT_GE(at(TraceType::SgiSend), 0);
    EXPECT_LT(at(TraceType::SgiSend), at(TraceType::KickSend)) << "SgiSend is recorded before the SGI is pending";
    EXPECT_EQ(r0[static_cast<usize>(at(TraceType::SgiSend))].b, 1u << 1) << "its targets";
    const auto wakes = of_type(d.pcpus[1], TraceType::Wake);
    ASSERT_EQ(wakes.size(), 1u);
    EXPECT_EQ(wakes[0].vcpu, 1u);
    EXPECT_GE(wakes[0].ts, kicks[0].ts) << "one clock for every pCPU";
}

TEST_F(TraceTest, FullRingKeepsTheNewestRecordsAndCountsTheRest)
{
    fake::hw().trace_records = 8;
    trace::start(bit_of(TraceType::KickRecv), 1);
    as_pcpu(0);
    for (u32 i = 0; i < 20; i++)
        trace::emit(TraceType::KickRecv, nullptr, i, 0, 0);
    const Dump d = dump_now();
    ASSERT_EQ(d.pcpus.size(), 1u);
    const auto& p = d.pcpus[0];
    // The oldest slot of a full ring is left out: a store in flight on its
    // pCPU may be overwriting it while the dump reads.
    EXPECT_EQ(p.h.count, 7u);
    EXPECT_EQ(p.h.dropped, 13u);
    ASSERT_EQ(p.recs.size(), 7u);
    for (u32 i = 0; i < 7; i++)
        EXPECT_EQ(p.recs[i].a, 13 + i) << "oldest first, in order across the ring's wrap";
    EXPECT_EQ(p.recs[0].vm, kTraceNone);
    EXPECT_EQ(p.recs[0].vcpu, kTraceNone);
}

TEST_F(TraceTest, DumpHeaderDescribesTheMachineAndRecordingResumesAfter)
{
    Vm& vm = add_vm({0, 1});
    g_options.mode = Mode::Single;
    const u32 mask = bit_of(TraceType::SgiSend);
    trace::start(mask, 2);
    const Dump d = dump_now();
    EXPECT_EQ(std::memcmp(d.h.magic, kTraceMagic, sizeof d.h.magic), 0);
    EXPECT_EQ(d.h.version, kTraceVersion);
    EXPECT_EQ(d.h.npcpus, 2u);
    EXPECT_EQ(d.h.nvms, 1u);
    EXPECT_EQ(d.h.mode, 1u);
    EXPECT_EQ(d.h.events, mask);
    EXPECT_EQ(d.h.freq, arch::ticks_per_second());
    ASSERT_EQ(d.names.size(), 3u);
    EXPECT_STREQ(d.names[0].name, vm.bus.range(0).dev->name());
    EXPECT_EQ(d.names[2].range, 2u);
    EXPECT_STREQ(d.names[2].name, "pl011");
    EXPECT_EQ(trace::g_events, mask) << "recording resumes after a dump";
    // A second dump holds the records again: the rings are not emptied.
    as_pcpu(0);
    Pcpu& p = run_pcpu(0);
    start_all(p, vm);
    ASSERT_EQ(pick(p), &vm.vcpus[0]);
    ipi(vm.vcpus[0], vm.vcpus[1]);
    EXPECT_EQ(dump_now().pcpus[0].h.count, 1u);
    EXPECT_EQ(dump_now().pcpus[0].h.count, 1u);
}

TEST_F(TraceTest, LastVmStoppingDumpsTheTraceBeforeTheMachineGoesOff)
{
    Vm& vm = add_vm({0});
    u32 all = 0;
    ASSERT_TRUE(trace::parse_events("all", all));
    trace::start(all, 1);
    Pcpu& p = run_pcpu(0);
    start_all(p, vm);
    ASSERT_EQ(pick(p), &vm.vcpus[0]);
    vm_request(vm, VmRequest::Stop);
    const Dump d = dump_now();
    const auto states = of_type(d.pcpus[0], TraceType::VmState);
    ASSERT_EQ(states.size(), 1u);
    EXPECT_EQ(states[0].vm, 0u);
    EXPECT_EQ(states[0].vcpu, kTraceNone);
    EXPECT_EQ(states[0].a, static_cast<u32>(VmState::Stopping));
    // Its last vCPU goes down: the machine powers off (the fake firmware
    // aborts), with the trace written out first.
    EXPECT_DEATH(pick(p), "fake: trace dumped, [0-9]+ records");
}

} // namespace
