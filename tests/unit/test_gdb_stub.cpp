// The gdb protocol engine against a fake 4-thread target: every command,
// every error reply, the session (attach, resume, stop, detach, lost
// connection) and malformed input in the middle of a session.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "debug/gdb_stub.h"
#include "rsp_test_util.h"

using gdb::Action;
using gdb::StopEvent;
using gdb::StopReason;

namespace {

using rsp_test::frame;

std::string hex(const std::string& s)
{
    std::string out;
    char b[3];
    for (unsigned char c : s) {
        snprintf(b, sizeof b, "%02x", c);
        out += b;
    }
    return out;
}

std::string hex_le(u64 v, unsigned bytes)
{
    std::string s;
    for (unsigned i = 0; i < bytes; i++) {
        char b[3];
        snprintf(b, sizeof b, "%02x", static_cast<unsigned>((v >> (8 * i)) & 0xff));
        s += b;
    }
    return s;
}

class FakeChannel final : public gdb::Channel {
public:
    void write(const u8* p, usize n) override { out.append(reinterpret_cast<const char*>(p), n); }
    std::string out;
};

// Processes of 4 threads by default (one); SetProcesses() makes more.
class FakeTarget final : public gdb::Target {
public:
    static constexpr u32 kThreads = 8;  // flat, over all processes

    FakeTarget()
    {
        for (u32 t = 0; t < kThreads; t++) {
            gdb::Regs& r = regs[t];
            std::memset(&r, 0, sizeof r);
            for (unsigned i = 0; i < 31; i++)
                r.x[i] = 0x1000 * (t + 1) + i;
            r.sp = 0xffff'8000'0000'0000ull + t * 0x100;
            r.pc = 0xffff'0000'1000'0000ull + t * 4;
            r.cpsr = 0x3c5;
            r.v[0][0] = 0x0123'4567'89ab'cdefull;
            r.v[0][1] = 0xfedc'ba98'7654'3210ull;
            r.fpsr = 0x11;
            r.fpcr = 0x22;
        }
    }

    void map(u64 va, usize n, u8 fill = 0)
    {
        for (usize i = 0; i < n; i++)
            mem[va + i] = static_cast<u8>(fill + i);
    }

    u32 num_processes() override { return static_cast<u32>(threads.size()); }
    u32 num_threads(u32 m) override { return threads.at(m); }
    u32 total() const
    {
        u32 n = 0;
        for (u32 k : threads)
            n += k;
        return n;
    }
    void read_regs(u32 t, gdb::Regs& r) override
    {
        EXPECT_LT(t, kThreads);
        r = regs[t];
    }
    bool write_regs(u32 t, const gdb::Regs& r) override
    {
        regs[t] = r;
        return !refuse_regs;
    }
    // Process 0 has `mem`, process 1 `mem1` (its own address space).
    std::map<u64, u8>& space(u32 t) { return t >= threads.at(0) ? mem1 : mem; }
    usize read_memory(u32 t, u64 va, u8* buf, usize len) override
    {
        EXPECT_LT(t, total());
        last_mem_thread = t;
        auto& m = space(t);
        for (usize i = 0; i < len; i++) {
            auto it = m.find(va + i);
            if (it == m.end())
                return i;
            buf[i] = it->second;
        }
        return len;
    }
    usize write_memory(u32 t, u64 va, const u8* buf, usize len) override
    {
        last_mem_thread = t;
        auto& m = space(t);
        for (usize i = 0; i < len; i++) {
            auto it = m.find(va + i);
            if (it == m.end())
                return i;
            it->second = buf[i];
        }
        return len;
    }
    u32 hw_breakpoint_slots() override { return 2; }
    void set_hw_breakpoints(u32 m, const u64* a, u32 n) override
    {
        (m ? hw1 : hw).assign(a, a + n);
    }
    void set_attached(bool a) override { attached = a; }
    void request_stop(StopReason why, u32 processes) override
    {
        stop_requests.push_back(why);
        stop_masks.push_back(processes);
    }
    void resume(const Action* a) override { resumes.emplace_back(a, a + total()); }
    void thread_info(u32 t, char* buf, usize len) override { snprintf(buf, len, "vCPU %u", t); }

    std::vector<u32> threads{4};
    gdb::Regs regs[kThreads];
    std::map<u64, u8> mem, mem1;
    std::vector<u64> hw, hw1;
    std::vector<u32> stop_masks;
    bool attached = false;
    bool refuse_regs = false;
    u32 last_mem_thread = ~0u;
    std::vector<StopReason> stop_requests;
    std::vector<std::vector<Action>> resumes;
};

constexpr u64 kText = 0xffff'0000'1000'0000ull;
constexpr u64 kData = 0xffff'8000'0000'0000ull;

class GdbStubTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        target.map(kText, 64, 0x10);
        target.map(kData, 256, 0x80);
    }

    // Bytes as gdb would send them; returns what the stub wrote back.
    std::string raw(const std::string& bytes)
    {
        chan.out.clear();
        stub.receive(reinterpret_cast<const u8*>(bytes.data()), bytes.size());
        return chan.out;
    }
    // One command: expect "+" and one reply packet; return its payload.
    std::string cmd(const std::string& body)
    {
        const std::string out = raw(frame(body));
        return payload_of(out, true);
    }
    // `out` is "+$...#cs" (or "$...#cs" without acks): check and unwrap.
    static std::string payload_of(const std::string& out, bool acked)
    {
        std::string s = out;
        if (acked) {
            EXPECT_FALSE(s.empty());
            if (s.empty() || s[0] != '+')
                return "<no ack: " + out + ">";
            s = s.substr(1);
        }
        if (s.size() < 4 || s[0] != '$' || s[s.size() - 3] != '#')
            return "<not one packet: " + out + ">";
        const std::string body = s.substr(1, s.size() - 4);
        EXPECT_EQ(s.substr(s.size() - 2), rsp_test::checksum_digits(body)) << out;
        return body;
    }

    // gdb connects to a running guest: its first packet stops everything.
    // (Without multiprocess+: the protocol of a single VM, as before.)
    void attach(const std::string& features = "qSupported:swbreak+;hwbreak+")
    {
        std::string out = raw("+" + frame(features));
        ASSERT_EQ(out, "+"); // acked, answered only once stopped
        ASSERT_TRUE(target.attached);
        ASSERT_FALSE(target.stop_requests.empty());
        EXPECT_EQ(target.stop_requests.back(), StopReason::Attach);
        chan.out.clear();
        stub.stopped(StopEvent{0, StopReason::Attach});
        EXPECT_EQ(payload_of(chan.out, false),
                  "PacketSize=1000;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+");
    }

    // The target reports a stop; returns the stop reply.
    std::string stop(u32 thread, StopReason why)
    {
        chan.out.clear();
        stub.stopped(StopEvent{thread, why});
        return payload_of(chan.out, false);
    }

    std::string expedite(u32 t)
    {
        return "20:" + hex_le(target.regs[t].pc, 8) + ";1f:" + hex_le(target.regs[t].sp, 8) + ";";
    }

    FakeTarget target;
    FakeChannel chan;
    gdb::Stub stub{target, chan};
};

TEST_F(GdbStubTest, FirstPacketAttachesAndStopsTheGuest)
{
    EXPECT_FALSE(stub.attached());
    attach();
    EXPECT_TRUE(stub.attached());
    EXPECT_FALSE(stub.running());
    EXPECT_EQ(cmd("?"), "T05thread:1;" + expedite(0));
}

TEST_F(GdbStubTest, ThreadList)
{
    attach();
    EXPECT_EQ(cmd("qfThreadInfo"), "m1,2,3,4");
    EXPECT_EQ(cmd("qsThreadInfo"), "l");
    EXPECT_EQ(cmd("qC"), "QC1");
    EXPECT_EQ(cmd("qAttached"), "1");
    EXPECT_EQ(cmd("qThreadExtraInfo,3"), hex("vCPU 2"));
    EXPECT_EQ(cmd("qThreadExtraInfo,9"), "E02");
    EXPECT_EQ(cmd("qThreadExtraInfo,zz"), "E01");
}

TEST_F(GdbStubTest, ThreadAliveAndSelection)
{
    attach();
    EXPECT_EQ(cmd("T3"), "OK");
    EXPECT_EQ(cmd("T4"), "OK");
    EXPECT_EQ(cmd("T5"), "E02");
    EXPECT_EQ(cmd("T0"), "E01");
    EXPECT_EQ(cmd("Tq"), "E01");
    EXPECT_EQ(cmd("Hg3"), "OK");
    EXPECT_EQ(cmd("qC"), "QC3");
    EXPECT_EQ(cmd("Hg0"), "OK"); // any thread: stays where it is
    EXPECT_EQ(cmd("qC"), "QC3");
    EXPECT_EQ(cmd("Hg7"), "E02");
    EXPECT_EQ(cmd("Hg-1"), "E01");
    EXPECT_EQ(cmd("Hgx"), "E01");
    EXPECT_EQ(cmd("Hc-1"), "OK");
    EXPECT_EQ(cmd("Hc2"), "OK");
    EXPECT_EQ(cmd("Hx1"), "E01");
    EXPECT_EQ(cmd("Hg1z"), "E01");
}

TEST_F(GdbStubTest, ReadAllRegistersInGdbsLayout)
{
    attach();
    ASSERT_EQ(cmd("Hg2"), "OK");
    const std::string g = cmd("g");
    ASSERT_EQ(g.size(), 2u * (33 * 8 + 4 + 32 * 16 + 8));
    const gdb::Regs& r = target.regs[1];
    EXPECT_EQ(g.substr(0, 16), hex_le(r.x[0], 8));
    EXPECT_EQ(g.substr(30 * 16, 16), hex_le(r.x[30], 8));
    EXPECT_EQ(g.substr(31 * 16, 16), hex_le(r.sp, 8));
    EXPECT_EQ(g.substr(32 * 16, 16), hex_le(r.pc, 8));
    EXPECT_EQ(g.substr(33 * 16, 8), hex_le(r.cpsr, 4));
    EXPECT_EQ(g.substr(33 * 16 + 8, 32), hex_le(r.v[0][0], 8) + hex_le(r.v[0][1], 8));
    EXPECT_EQ(g.substr(g.size() - 16), hex_le(r.fpsr, 4) + hex_le(r.fpcr, 4));
    EXPECT_EQ(cmd("gx"), "E01");
}

TEST_F(GdbStubTest, WriteAllRegisters)
{
    attach();
    ASSERT_EQ(cmd("Hg4"), "OK");
    std::string g = cmd("g");
    // Change x5 and pc.
    g.replace(5 * 16, 16, hex_le(0xdead'beefull, 8));
    g.replace(32 * 16, 16, hex_le(0xffff'0000'1000'0020ull, 8));
    EXPECT_EQ(cmd("G" + g), "OK");
    EXPECT_EQ(target.regs[3].x[5], 0xdead'beefull);
    EXPECT_EQ(target.regs[3].pc, 0xffff'0000'1000'0020ull);
    EXPECT_EQ(target.regs[3].v[0][1], 0xfedc'ba98'7654'3210ull);
    EXPECT_EQ(cmd("G" + g.substr(2)), "E01");       // short
    EXPECT_EQ(cmd("G" + g + "00"), "E01");          // long
    std::string bad = g;
    bad[7] = 'x';
    EXPECT_EQ(cmd("G" + bad), "E01");               // bad hex
    target.refuse_regs = true;
    EXPECT_EQ(cmd("G" + g), "E01");
}

TEST_F(GdbStubTest, SingleRegisters)
{
    attach();
    EXPECT_EQ(cmd("p20"), hex_le(target.regs[0].pc, 8));
    EXPECT_EQ(cmd("p1f"), hex_le(target.regs[0].sp, 8));
    EXPECT_EQ(cmd("p21"), hex_le(target.regs[0].cpsr, 4));
    EXPECT_EQ(cmd("p22"), hex_le(target.regs[0].v[0][0], 8) + hex_le(target.regs[0].v[0][1], 8));
    EXPECT_EQ(cmd("p43"), hex_le(target.regs[0].fpcr, 4));
    EXPECT_EQ(cmd("p44"), "E01"); // 68: no such register
    EXPECT_EQ(cmd("p"), "E01");
    EXPECT_EQ(cmd("pzz"), "E01");
    EXPECT_EQ(cmd("P2=" + hex_le(0x1234, 8)), "OK");
    EXPECT_EQ(target.regs[0].x[2], 0x1234u);
    EXPECT_EQ(cmd("P21=" + hex_le(0x3c4, 4)), "OK");
    EXPECT_EQ(target.regs[0].cpsr, 0x3c4u);
    EXPECT_EQ(cmd("P2=" + hex_le(0x1234, 4)), "E01"); // wrong width
    EXPECT_EQ(cmd("P2=12345678zz000000"), "E01");
    EXPECT_EQ(cmd("P2"), "E01");
    EXPECT_EQ(cmd("P50=00000000"), "E01");
}

TEST_F(GdbStubTest, ReadMemory)
{
    attach();
    EXPECT_EQ(cmd("mffff000010000000,4"), "10111213");
    EXPECT_EQ(cmd("mffff00001000003e,2"), "4e4f");
    // Crossing into unmapped memory: what could be read.
    EXPECT_EQ(cmd("mffff00001000003e,8"), "4e4f");
    EXPECT_EQ(cmd("m0,4"), "E14");
    EXPECT_EQ(cmd("mffff000010000000"), "E01");
    EXPECT_EQ(cmd("mffff00001000000g,4"), "E01");
    EXPECT_EQ(cmd("m,4"), "E01");
    EXPECT_EQ(cmd("m11112222333344445,4"), "E01"); // 17 digits
    // A huge length is capped, never overruns.
    const std::string big = cmd("mffff800000000000,100000");
    EXPECT_EQ(big.size(), 2u * 256);
}

TEST_F(GdbStubTest, MemoryUsesTheSelectedThread)
{
    attach();
    ASSERT_EQ(cmd("Hg3"), "OK");
    cmd("mffff000010000000,4");
    EXPECT_EQ(target.last_mem_thread, 2u);
}

TEST_F(GdbStubTest, WriteMemoryHexAndBinary)
{
    attach();
    EXPECT_EQ(cmd("Mffff800000000000,3:a1b2c3"), "OK");
    EXPECT_EQ(cmd("mffff800000000000,4"), "a1b2c383");
    EXPECT_EQ(cmd("Mffff800000000000,3:a1b2"), "E01");   // too few digits
    EXPECT_EQ(cmd("Mffff800000000000,1:zz"), "E01");
    EXPECT_EQ(cmd("Mffff800000000000,1a1"), "E01");      // no colon
    EXPECT_EQ(cmd("M10,2:0102"), "E14");
    // Binary, with bytes that need escaping on the wire.
    const std::string data = std::string("#$}*") + '\0';
    std::string esc;
    for (char c : data) {
        if (c == '#' || c == '$' || c == '}' || c == '*') {
            esc += '}';
            esc += static_cast<char>(c ^ 0x20);
        } else {
            esc += c;
        }
    }
    EXPECT_EQ(cmd("Xffff800000000010,5:" + esc), "OK");
    EXPECT_EQ(cmd("mffff800000000010,5"), hex(data));
    EXPECT_EQ(cmd("Xffff800000000010,0:"), "OK"); // gdb's probe
    EXPECT_EQ(cmd("Xffff800000000010,4:ab"), "E01");
    EXPECT_EQ(cmd("X20,1:a"), "E14");
}

TEST_F(GdbStubTest, SoftwareBreakpointIsABrkInMemoryAndHiddenFromReads)
{
    attach();
    EXPECT_EQ(cmd("Z0,ffff000010000008,4"), "OK");
    const u32 brk = gdb::Stub::kBrkInsn;
    for (unsigned i = 0; i < 4; i++)
        EXPECT_EQ(target.mem[kText + 8 + i], static_cast<u8>(brk >> (8 * i)));
    EXPECT_TRUE(stub.is_sw_breakpoint(0, kText + 8));
    EXPECT_FALSE(stub.is_sw_breakpoint(0, kText + 12));
    // gdb reads the original instruction.
    EXPECT_EQ(cmd("mffff000010000006,6"), "161718191a1b");
    // Inserting twice is harmless; removing restores.
    EXPECT_EQ(cmd("Z0,ffff000010000008,4"), "OK");
    EXPECT_EQ(cmd("z0,ffff000010000008,4"), "OK");
    EXPECT_EQ(target.mem[kText + 8], 0x18);
    EXPECT_EQ(target.mem[kText + 11], 0x1b);
    EXPECT_FALSE(stub.is_sw_breakpoint(0, kText + 8));
    EXPECT_EQ(cmd("z0,ffff000010000008,4"), "OK"); // not there: nothing to do
}

TEST_F(GdbStubTest, WritingOverABreakpointKeepsIt)
{
    attach();
    ASSERT_EQ(cmd("Z0,ffff000010000010,4"), "OK");
    EXPECT_EQ(cmd("Mffff00001000000e,4:aabbccdd"), "OK");
    EXPECT_EQ(target.mem[kText + 0x10], static_cast<u8>(gdb::Stub::kBrkInsn)); // still a BRK
    EXPECT_EQ(cmd("mffff00001000000e,4"), "aabbccdd");
    ASSERT_EQ(cmd("z0,ffff000010000010,4"), "OK");
    EXPECT_EQ(target.mem[kText + 0x10], 0xcc); // the new bytes come back
    EXPECT_EQ(target.mem[kText + 0x11], 0xdd);
    EXPECT_EQ(target.mem[kText + 0x12], 0x22);
}

TEST_F(GdbStubTest, BreakpointErrors)
{
    attach();
    EXPECT_EQ(cmd("Z0,ffff000010000008,2"), "E01"); // kind
    EXPECT_EQ(cmd("Z0,ffff000010000009,4"), "E01"); // alignment
    EXPECT_EQ(cmd("Z0,1000,4"), "E14");              // unmapped
    EXPECT_EQ(cmd("Z0,ffff000010000008"), "E01");
    EXPECT_EQ(cmd("Z0ffff000010000008,4"), "E01");
    EXPECT_EQ(cmd("Z2,ffff800000000000,8"), "");     // watchpoints: unsupported
    EXPECT_EQ(cmd("Z4,ffff800000000000,8"), "");
    EXPECT_EQ(cmd("Zq,0,4"), "E01");
}

TEST_F(GdbStubTest, SoftwareBreakpointTableFull)
{
    attach();
    target.map(0x1'0000, 4 * (gdb::Stub::kMaxSwBreakpoints + 1));
    char buf[64];
    for (u32 i = 0; i < gdb::Stub::kMaxSwBreakpoints; i++) {
        snprintf(buf, sizeof buf, "Z0,%x,4", 0x1'0000 + 4 * i);
        ASSERT_EQ(cmd(buf), "OK") << i;
    }
    snprintf(buf, sizeof buf, "Z0,%x,4", 0x1'0000 + 4 * gdb::Stub::kMaxSwBreakpoints);
    EXPECT_EQ(cmd(buf), "E28");
}

TEST_F(GdbStubTest, HardwareBreakpoints)
{
    attach();
    EXPECT_EQ(cmd("Z1,ffff000010000000,4"), "OK");
    EXPECT_EQ(target.hw, std::vector<u64>{kText});
    EXPECT_EQ(cmd("Z1,ffff000010000004,4"), "OK");
    EXPECT_EQ(cmd("Z1,ffff000010000008,4"), "E28"); // the fake has 2 slots
    EXPECT_EQ(cmd("Z1,ffff000010000004,4"), "OK");  // already set
    EXPECT_EQ(cmd("z1,ffff000010000000,4"), "OK");
    EXPECT_EQ(target.hw, std::vector<u64>{kText + 4});
    // Memory is untouched by hardware breakpoints.
    EXPECT_EQ(target.mem[kText], 0x10);
}

TEST_F(GdbStubTest, VContResumesPerThreadAndStopReplyNamesTheThread)
{
    attach();
    EXPECT_EQ(cmd("vCont?"), "vCont;c;C;s;S");
    ASSERT_EQ(cmd("Z0,ffff000010000008,4"), "OK");
    // Continue everything: acked, no reply until the target stops.
    EXPECT_EQ(raw(frame("vCont;c")), "+");
    EXPECT_TRUE(stub.running());
    ASSERT_EQ(target.resumes.size(), 1u);
    EXPECT_EQ(target.resumes[0], std::vector<Action>(4, Action::Continue));
    EXPECT_EQ(stop(2, StopReason::SwBreak), "T05thread:3;swbreak:;" + expedite(2));
    EXPECT_EQ(cmd("qC"), "QC3"); // the thread that stopped becomes current
    // Step thread 3, continue the others (gdb's stepi).
    EXPECT_EQ(raw(frame("vCont;s:3;c")), "+");
    EXPECT_EQ(target.resumes.back(),
              (std::vector<Action>{Action::Continue, Action::Continue, Action::Step, Action::Continue}));
    EXPECT_EQ(stop(2, StopReason::Step), "T05thread:3;" + expedite(2));
    // Step only thread 2: the others stay stopped.
    EXPECT_EQ(raw(frame("vCont;s:2")), "+");
    EXPECT_EQ(target.resumes.back(), (std::vector<Action>{Action::Stop, Action::Step, Action::Stop, Action::Stop}));
    EXPECT_EQ(stop(1, StopReason::Step), "T05thread:2;" + expedite(1));
    // With signals (ignored).
    EXPECT_EQ(raw(frame("vCont;S05:1;C02")), "+");
    EXPECT_EQ(target.resumes.back(),
              (std::vector<Action>{Action::Step, Action::Continue, Action::Continue, Action::Continue}));
    EXPECT_EQ(stop(0, StopReason::HwBreak), "T05thread:1;hwbreak:;" + expedite(0));
}

TEST_F(GdbStubTest, VContErrorsLeaveTheTargetStopped)
{
    attach();
    EXPECT_EQ(cmd("vCont;c:9"), "E02");
    EXPECT_EQ(cmd("vCont;t:1"), "E01"); // non-stop only
    EXPECT_EQ(cmd("vCont;r0,4:1"), "E01");
    EXPECT_EQ(cmd("vCont;x"), "E01");
    EXPECT_EQ(cmd("vCont;s:zz"), "E01");
    EXPECT_EQ(cmd("vCont;c;"), "E01");
    EXPECT_EQ(cmd("vContc"), "");       // not a vCont packet at all
    EXPECT_TRUE(target.resumes.empty());
    EXPECT_FALSE(stub.running());
}

TEST_F(GdbStubTest, LegacyContinueAndStep)
{
    attach();
    EXPECT_EQ(raw(frame("c")), "+");
    EXPECT_EQ(target.resumes.back(), std::vector<Action>(4, Action::Continue));
    stop(1, StopReason::SwBreak);
    // s steps the current thread only.
    EXPECT_EQ(raw(frame("s")), "+");
    EXPECT_EQ(target.resumes.back(), (std::vector<Action>{Action::Stop, Action::Step, Action::Stop, Action::Stop}));
    stop(1, StopReason::Step);
    // Hc selects the thread; c addr moves its pc first.
    ASSERT_EQ(cmd("Hc4"), "OK");
    EXPECT_EQ(raw(frame("cffff000010000020")), "+");
    EXPECT_EQ(target.regs[3].pc, kText + 0x20);
    stop(3, StopReason::SwBreak);
    EXPECT_EQ(raw(frame("S05")), "+");
    EXPECT_EQ(target.resumes.back(), (std::vector<Action>{Action::Stop, Action::Stop, Action::Stop, Action::Step}));
    stop(3, StopReason::Step);
    EXPECT_EQ(raw(frame("C02;ffff000010000004")), "+");
    EXPECT_EQ(target.regs[3].pc, kText + 4);
    stop(3, StopReason::Step);
    EXPECT_EQ(cmd("cxyz"), "E01");
    EXPECT_EQ(cmd("Cq"), "E01");
}

TEST_F(GdbStubTest, CtrlCStopsARunningGuest)
{
    attach();
    ASSERT_EQ(cmd("Hg3"), "OK");
    raw(frame("vCont;c"));
    EXPECT_EQ(raw("\x03"), ""); // no immediate answer
    EXPECT_EQ(target.stop_requests.back(), StopReason::Interrupt);
    // Reported on the thread gdb had selected, whichever the target names.
    EXPECT_EQ(stop(0, StopReason::Interrupt), "T02thread:3;" + expedite(2));
    // Ctrl-C while stopped does nothing.
    const usize n = target.stop_requests.size();
    EXPECT_EQ(raw("\x03"), "");
    EXPECT_EQ(target.stop_requests.size(), n);
}

TEST_F(GdbStubTest, CtrlCAsTheFirstThingAttaches)
{
    EXPECT_EQ(raw("\x03"), "");
    EXPECT_TRUE(target.attached);
    EXPECT_EQ(target.stop_requests.back(), StopReason::Interrupt);
    EXPECT_EQ(stop(2, StopReason::Interrupt), "T02thread:1;" + expedite(0)); // none selected yet: the first
}

TEST_F(GdbStubTest, NoSwbreakReasonUnlessGdbAskedForIt)
{
    attach("qSupported:qRelocInsn+");
    raw(frame("c"));
    EXPECT_EQ(stop(1, StopReason::SwBreak), "T05thread:2;" + expedite(1));
}

TEST_F(GdbStubTest, FeaturesAreComparedWhole)
{
    attach("qSupported:noswbreak+;hwbreak+x;multiprocess+x");
    raw(frame("c"));
    EXPECT_EQ(stop(1, StopReason::SwBreak), "T05thread:2;" + expedite(1));
    raw(frame("c"));
    EXPECT_EQ(stop(1, StopReason::HwBreak), "T05thread:2;" + expedite(1));
    EXPECT_EQ(payload_of(raw(frame("qSupported:hwbreak+")), true).substr(0, 10), "PacketSize");
    raw(frame("c"));
    EXPECT_EQ(stop(2, StopReason::HwBreak), "T05thread:3;hwbreak:;" + expedite(2));
}

TEST_F(GdbStubTest, UnknownCommandsGetTheEmptyReply)
{
    attach();
    EXPECT_EQ(cmd("Jfoo"), "");
    EXPECT_EQ(cmd("qFooBar"), "");
    EXPECT_EQ(cmd("QFoo"), "");
    EXPECT_EQ(cmd("vMustReplyEmpty"), "");
    EXPECT_EQ(cmd("!"), "");
    EXPECT_EQ(cmd(""), "");
    EXPECT_EQ(cmd("qSymbol::"), "OK");
    // And the session goes on.
    EXPECT_EQ(cmd("qfThreadInfo"), "m1,2,3,4");
}

// A command name matches only the whole packet (or up to its argument
// separator): qCRC (gdb's compare-sections) is not qC, and the engine must
// not read past the end of the name while deciding.
TEST_F(GdbStubTest, CommandNamesMatchWholePacketsNotPrefixes)
{
    attach();
    EXPECT_EQ(cmd("qCRC:ffff000010000000,40"), "");
    EXPECT_EQ(cmd("qCRC"), "");
    EXPECT_EQ(cmd("qCx"), "");
    EXPECT_EQ(cmd("qAttached:1"), "1");
    EXPECT_EQ(cmd("qAttached"), "1");
    EXPECT_EQ(cmd("qAttachedX"), "");
    EXPECT_EQ(cmd("qfThreadInfoXYZ"), "");
    EXPECT_EQ(cmd("qsThreadInfo,1"), "");
    EXPECT_EQ(cmd("vCont?;c"), "");
    EXPECT_EQ(cmd("QStartNoAckModeX"), "");
    EXPECT_EQ(cmd("qSymbolic"), "");
    EXPECT_EQ(cmd("qSupportedX"), "");
    EXPECT_EQ(cmd("vKillX"), "");
    EXPECT_TRUE(stub.attached()); // vKillX did not detach
    // Still in acknowledged mode: the near miss above did not switch it off.
    EXPECT_EQ(cmd("qC"), "QC1");
}

TEST_F(GdbStubTest, TargetDescription)
{
    attach();
    std::string xml;
    for (u64 off = 0;;) {
        char q[80];
        snprintf(q, sizeof q, "qXfer:features:read:target.xml:%llx,200", static_cast<unsigned long long>(off));
        const std::string r = cmd(q);
        ASSERT_FALSE(r.empty());
        ASSERT_TRUE(r[0] == 'm' || r[0] == 'l') << r;
        xml += r.substr(1);
        off += r.size() - 1;
        if (r[0] == 'l')
            break;
    }
    EXPECT_EQ(xml, std::string(gdb::kTargetXml));
    EXPECT_NE(xml.find("org.gnu.gdb.aarch64.core"), std::string::npos);
    EXPECT_NE(xml.find("<reg name=\"cpsr\" bitsize=\"32\""), std::string::npos);
    EXPECT_NE(xml.find("<reg name=\"v31\""), std::string::npos);
    EXPECT_EQ(cmd("qXfer:features:read:target.xml:ffffff,10"), "l");
    EXPECT_EQ(cmd("qXfer:features:read:other.xml:0,10"), "E00");
    EXPECT_EQ(cmd("qXfer:features:read:target.xml:0"), "E01");
    EXPECT_EQ(cmd("qXfer:libraries:read::0,10"), "");
}

TEST_F(GdbStubTest, BadChecksumIsNakedAndTheStubRecovers)
{
    attach();
    EXPECT_EQ(raw("$qC#00"), "-");
    EXPECT_EQ(cmd("qC"), "QC1");
    EXPECT_EQ(stub.stats().bad, 1u);
}

TEST_F(GdbStubTest, GarbageTruncatedAndOverlongPackets)
{
    attach();
    EXPECT_EQ(raw("noise\r\n"), "");
    EXPECT_EQ(cmd("qC"), "QC1");
    // Truncated (no checksum) then a good one: one answer, for the good one.
    EXPECT_EQ(payload_of(raw("$mffff000010000000,4" + frame("qC")), true), "QC1");
    // Overlong: naked once, then business as usual.
    EXPECT_EQ(raw(frame("M0,1:" + std::string(rsp::kMaxPayload, '0'))), "-");
    EXPECT_EQ(cmd("mffff000010000000,2"), "1011");
    // Bad hex inside a well-framed packet is an error reply, not a nak.
    EXPECT_EQ(cmd("mzz,4"), "E01");
    EXPECT_FALSE(stub.running());
    EXPECT_TRUE(target.resumes.empty());
}

TEST_F(GdbStubTest, NakAsksForTheLastReplyAgain)
{
    attach();
    const std::string first = raw(frame("qC"));
    EXPECT_EQ(raw("-"), first.substr(1)); // the packet again, without our ack
    EXPECT_EQ(raw("+"), "");
}

TEST_F(GdbStubTest, NoAckMode)
{
    attach();
    EXPECT_EQ(cmd("QStartNoAckMode"), "OK");
    EXPECT_EQ(payload_of(raw(frame("qC")), false), "QC1");
    EXPECT_EQ(raw("$qC#00"), ""); // no nak either
    EXPECT_EQ(raw("-"), "");      // and no retransmission
    // A new connection (qSupported) starts acknowledged again.
    EXPECT_EQ(cmd("qSupported"), "PacketSize=1000;qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+");
    EXPECT_EQ(raw("$qC#00"), "-");
}

TEST_F(GdbStubTest, DetachRemovesBreakpointsAndResumesEverything)
{
    attach();
    ASSERT_EQ(cmd("Z0,ffff000010000008,4"), "OK");
    ASSERT_EQ(cmd("Z1,ffff000010000000,4"), "OK");
    EXPECT_EQ(cmd("D;1"), "OK");
    EXPECT_EQ(target.mem[kText + 8], 0x18);
    EXPECT_TRUE(target.hw.empty());
    EXPECT_FALSE(target.attached);
    EXPECT_FALSE(stub.attached());
    ASSERT_EQ(target.resumes.size(), 1u);
    EXPECT_EQ(target.resumes[0], std::vector<Action>(4, Action::Continue));
    EXPECT_TRUE(stub.running());
}

TEST_F(GdbStubTest, KillDetachesWithoutReply)
{
    attach();
    ASSERT_EQ(cmd("Z0,ffff000010000008,4"), "OK");
    EXPECT_EQ(raw(frame("k")), "+");
    EXPECT_EQ(target.mem[kText + 8], 0x18);
    EXPECT_FALSE(target.attached);
    EXPECT_EQ(target.resumes.size(), 1u);
    attach();
    EXPECT_EQ(cmd("vKill;1"), "OK");
    EXPECT_FALSE(target.attached);
}

TEST_F(GdbStubTest, DisconnectMidPacketWhileStoppedDetachesThenReconnectWorks)
{
    attach();
    ASSERT_EQ(cmd("Z0,ffff000010000008,4"), "OK");
    raw("$mffff0000100"); // cut off
    stub.disconnected();
    EXPECT_EQ(target.mem[kText + 8], 0x18);
    EXPECT_FALSE(target.attached);
    ASSERT_EQ(target.resumes.size(), 1u);
    EXPECT_EQ(target.resumes[0], std::vector<Action>(4, Action::Continue));
    // The rest of the old packet, then a new session.
    EXPECT_EQ(raw("00000,4#aa"), "");
    attach();
    EXPECT_EQ(cmd("mffff000010000008,4"), "18191a1b");
}

TEST_F(GdbStubTest, DisconnectWhileRunningStopsFirstToRemoveBreakpoints)
{
    attach();
    ASSERT_EQ(cmd("Z0,ffff000010000008,4"), "OK");
    raw(frame("vCont;c"));
    stub.disconnected();
    EXPECT_EQ(target.mem[kText + 8], static_cast<u8>(gdb::Stub::kBrkInsn)); // not while running
    EXPECT_EQ(target.stop_requests.back(), StopReason::Attach);
    chan.out.clear();
    stub.stopped(StopEvent{1, StopReason::SwBreak});
    EXPECT_EQ(chan.out, ""); // nobody to tell
    EXPECT_EQ(target.mem[kText + 8], 0x18);
    EXPECT_FALSE(target.attached);
    EXPECT_EQ(target.resumes.back(), std::vector<Action>(4, Action::Continue));
    EXPECT_TRUE(stub.running());
}

TEST_F(GdbStubTest, NewConnectionWhileRunningAttachedStopsAndAnswers)
{
    // The previous gdb vanished during a continue, without a disconnect
    // notification; the next one simply starts talking.
    attach();
    raw(frame("vCont;c"));
    std::string out = raw("+" + frame("qSupported:swbreak+"));
    EXPECT_EQ(out, "+");
    EXPECT_EQ(target.stop_requests.back(), StopReason::Attach);
    chan.out.clear();
    stub.stopped(StopEvent{2, StopReason::Attach});
    // Only the qSupported answer: the old session's stop reply is not sent.
    EXPECT_EQ(payload_of(chan.out, false).substr(0, 16), "PacketSize=1000;");
    // A connection's stop is reported on the first thread (see
    // AttachStopIsReportedInTheFirstVm).
    EXPECT_EQ(cmd("?"), "T05thread:1;" + expedite(0));
}

TEST_F(GdbStubTest, SecondPacketWhileStoppingIsNaked)
{
    EXPECT_EQ(raw(frame("qSupported")), "+");
    EXPECT_EQ(raw(frame("qC")), "-"); // not lost: gdb would resend
    stub.stopped(StopEvent{0, StopReason::Attach});
    EXPECT_EQ(cmd("qC"), "QC1");
}

TEST_F(GdbStubTest, StopWhileDetachedJustResumes)
{
    // A stop the target finishes after gdb already detached.
    attach();
    raw(frame("vCont;c"));
    raw("\x03");
    stub.disconnected();
    stub.stopped(StopEvent{0, StopReason::Interrupt});
    EXPECT_FALSE(target.attached);
    EXPECT_EQ(target.resumes.back(), std::vector<Action>(4, Action::Continue));
}

} // namespace

// ---- several processes (VMs): gdb's multiprocess extension ----------------

namespace {

// Two VMs of 2 vCPUs each: flat threads 0,1 are p1.1, p1.2; 2,3 are p2.1, p2.2.
class GdbStubMultiTest : public GdbStubTest {
protected:
    void SetUp() override
    {
        GdbStubTest::SetUp();
        target.threads = {2, 2};
        for (usize i = 0; i < 16; i++)
            target.mem1[kText + i] = static_cast<u8>(0xa0 + i);
    }
    void attach_mp()
    {
        std::string out = raw("+" + frame("qSupported:multiprocess+;swbreak+;hwbreak+"));
        ASSERT_EQ(out, "+");
        ASSERT_FALSE(target.stop_masks.empty());
        EXPECT_EQ(target.stop_masks.back(), 3u); // both VMs
        chan.out.clear();
        stub.stopped(StopEvent{0, StopReason::Attach});
        EXPECT_EQ(payload_of(chan.out, false), "PacketSize=1000;qXfer:features:read+;swbreak+;hwbreak+;"
                                               "vContSupported+;QStartNoAckMode+;multiprocess+");
        EXPECT_TRUE(stub.multiprocess());
    }
};

} // namespace

TEST_F(GdbStubMultiTest, MultiprocessOnlyWhenGdbOffersIt)
{
    // Without it the client sees VM 0 alone, with plain thread ids, and
    // stopping it stops VM 0 only.
    attach();
    EXPECT_FALSE(stub.multiprocess());
    EXPECT_EQ(target.stop_masks.back(), 1u);
    EXPECT_EQ(cmd("qfThreadInfo"), "m1,2");
    EXPECT_EQ(cmd("T3"), "E02");
    EXPECT_EQ(cmd("Hgp2.1"), "E01"); // pPID.TID is not this client's syntax
    EXPECT_EQ(cmd("qC"), "QC1");
    EXPECT_EQ(raw(frame("vCont;c")), "+");
    // Threads it cannot see are never held.
    EXPECT_EQ(target.resumes.back(), std::vector<Action>(4, Action::Continue));
    EXPECT_EQ(stop(1, StopReason::SwBreak), "T05thread:2;swbreak:;" + expedite(1));
}

TEST_F(GdbStubMultiTest, EveryVmIsAProcessAndEveryVcpuAThread)
{
    attach_mp();
    EXPECT_EQ(cmd("qfThreadInfo"), "mp1.1,p1.2,p2.1,p2.2");
    EXPECT_EQ(cmd("qsThreadInfo"), "l");
    EXPECT_EQ(cmd("qC"), "QCp1.1");
    EXPECT_EQ(cmd("?"), "T05thread:p1.1;" + expedite(0));
    EXPECT_EQ(cmd("qAttached:1"), "1");
    EXPECT_EQ(cmd("qAttached:2"), "1");
    EXPECT_EQ(cmd("qAttached:3"), "E02");
    EXPECT_EQ(cmd("qAttached:x"), "E01");
    EXPECT_EQ(cmd("qThreadExtraInfo,p2.2"), hex("vCPU 3")); // the fake names flat indexes
    EXPECT_EQ(cmd("qThreadExtraInfo,p3.1"), "E02");
    EXPECT_EQ(cmd("qThreadExtraInfo,p2.3"), "E02");
}

// gdb takes the process of the first stop it sees for its inferior 1: a
// connection's stop is reported on VM 0 whichever vCPU the target names
// (in single mode, often one of VM 1's).
TEST_F(GdbStubMultiTest, AttachStopIsReportedInTheFirstVm)
{
    std::string out = raw("+" + frame("qSupported:multiprocess+"));
    ASSERT_EQ(out, "+");
    stub.stopped(StopEvent{3, StopReason::Attach});
    EXPECT_EQ(cmd("?"), "T05thread:p1.1;" + expedite(0));
    EXPECT_EQ(cmd("qC"), "QCp1.1");
}

TEST_F(GdbStubMultiTest, ThreadIdsParseInEveryForm)
{
    attach_mp();
    EXPECT_EQ(cmd("Tp2.2"), "OK");
    EXPECT_EQ(cmd("Tp2.3"), "E02");
    EXPECT_EQ(cmd("Tp0.1"), "OK");   // any process
    EXPECT_EQ(cmd("Tp-1.1"), "E01"); // all processes: not one thread
    EXPECT_EQ(cmd("Tp2."), "E01");
    EXPECT_EQ(cmd("Tpx.1"), "E01");
    EXPECT_EQ(cmd("Hgp2.2"), "OK");
    EXPECT_EQ(cmd("qC"), "QCp2.2");
    EXPECT_EQ(cmd("Hg1"), "OK"); // a bare TID is in the current thread's process
    EXPECT_EQ(cmd("qC"), "QCp2.1");
    EXPECT_EQ(cmd("Hgp0.0"), "OK"); // any: stays
    EXPECT_EQ(cmd("qC"), "QCp2.1");
    EXPECT_EQ(cmd("Hgp1.0"), "OK"); // any thread of process 1: its first
    EXPECT_EQ(cmd("qC"), "QCp1.1");
    EXPECT_EQ(cmd("Hgp2"), "E01");   // all of its threads
    EXPECT_EQ(cmd("Hgp5.1"), "E02");
    EXPECT_EQ(cmd("Hcp-1.-1"), "OK");
    EXPECT_EQ(cmd("Hcp2.-1"), "OK");
    EXPECT_EQ(cmd("Hcp2.1"), "OK");
}

TEST_F(GdbStubMultiTest, RegistersAndMemoryAreTheSelectedThreadsVm)
{
    attach_mp();
    ASSERT_EQ(cmd("Hgp2.2"), "OK");
    EXPECT_EQ(cmd("p20"), hex_le(target.regs[3].pc, 8));
    EXPECT_EQ(cmd("m" + std::string("ffff000010000000") + ",4"), "a0a1a2a3");
    EXPECT_EQ(target.last_mem_thread, 3u);
    ASSERT_EQ(cmd("Hgp1.2"), "OK");
    EXPECT_EQ(cmd("p20"), hex_le(target.regs[1].pc, 8));
    EXPECT_EQ(cmd("mffff000010000000,4"), "10111213");
    EXPECT_EQ(target.last_mem_thread, 1u);
}

TEST_F(GdbStubMultiTest, BreakpointsBelongToTheirVm)
{
    attach_mp();
    // The same address in both VMs: two breakpoints, each in its own memory.
    ASSERT_EQ(cmd("Hgp2.1"), "OK");
    ASSERT_EQ(cmd("Z0,ffff000010000004,4"), "OK");
    EXPECT_EQ(target.mem1[kText + 7], 0xd4); // BRK #0x7f1 = 0xd420fe20, little-endian
    EXPECT_EQ(target.mem[kText + 4], 0x14);  // VM 0 untouched
    EXPECT_TRUE(stub.is_sw_breakpoint(1, kText + 4));
    EXPECT_FALSE(stub.is_sw_breakpoint(0, kText + 4));
    EXPECT_EQ(cmd("mffff000010000004,4"), "a4a5a6a7"); // shadowed
    ASSERT_EQ(cmd("Hgp1.1"), "OK");
    ASSERT_EQ(cmd("Z0,ffff000010000004,4"), "OK");
    EXPECT_EQ(target.mem[kText + 4], 0x20); // BRK's low byte
    EXPECT_EQ(cmd("z0,ffff000010000004,4"), "OK");      // VM 0's only
    EXPECT_EQ(target.mem[kText + 4], 0x14);
    EXPECT_TRUE(stub.is_sw_breakpoint(1, kText + 4));
    // Hardware breakpoints: a table per VM.
    ASSERT_EQ(cmd("Z1,ffff000010000008,4"), "OK");
    ASSERT_EQ(cmd("Hgp2.2"), "OK");
    ASSERT_EQ(cmd("Z1,ffff00001000000c,4"), "OK");
    EXPECT_EQ(target.hw, std::vector<u64>{kText + 8});
    EXPECT_EQ(target.hw1, std::vector<u64>{kText + 12});
    // Detaching everything removes both VMs' breakpoints.
    EXPECT_EQ(cmd("D"), "OK");
    EXPECT_EQ(target.mem1[kText + 4], 0xa4);
    EXPECT_TRUE(target.hw.empty());
    EXPECT_TRUE(target.hw1.empty());
}

TEST_F(GdbStubMultiTest, VContActionsPerProcessAndStopRepliesNameTheProcess)
{
    attach_mp();
    EXPECT_EQ(raw(frame("vCont;c")), "+");
    EXPECT_EQ(target.resumes.back(), std::vector<Action>(4, Action::Continue));
    // A breakpoint in VM 1 (the target stops that VM alone).
    EXPECT_EQ(stop(3, StopReason::SwBreak), "T05thread:p2.2;swbreak:;" + expedite(3));
    EXPECT_EQ(cmd("qC"), "QCp2.2");
    // gdb's stepi with scheduler-locking off: step it, continue everything.
    EXPECT_EQ(raw(frame("vCont;s:p2.2;c")), "+");
    EXPECT_EQ(target.resumes.back(),
              (std::vector<Action>{Action::Continue, Action::Continue, Action::Continue, Action::Step}));
    EXPECT_EQ(stop(3, StopReason::Step), "T05thread:p2.2;" + expedite(3));
    // Every thread of one process.
    EXPECT_EQ(raw(frame("vCont;c:p2.-1")), "+");
    EXPECT_EQ(target.resumes.back(),
              (std::vector<Action>{Action::Stop, Action::Stop, Action::Continue, Action::Continue}));
    EXPECT_EQ(stop(2, StopReason::HwBreak), "T05thread:p2.1;hwbreak:;" + expedite(2));
    EXPECT_EQ(raw(frame("vCont;s:p1.2")), "+");
    EXPECT_EQ(target.resumes.back(), (std::vector<Action>{Action::Stop, Action::Step, Action::Stop, Action::Stop}));
    EXPECT_EQ(stop(1, StopReason::Step), "T05thread:p1.2;" + expedite(1));
    EXPECT_EQ(cmd("vCont;c:p3.-1"), "E02");
    EXPECT_EQ(cmd("vCont;c:p2.7"), "E02");
    // Ctrl-C while running asks for every VM, and is reported on the
    // thread gdb selected (gdb keeps the first inferior "being connected
    // to", and quiet, until it is resumed from there).
    ASSERT_EQ(cmd("Hgp2.2"), "OK");
    raw(frame("vCont;c"));
    raw("\x03");
    EXPECT_EQ(target.stop_requests.back(), StopReason::Interrupt);
    EXPECT_EQ(target.stop_masks.back(), 3u);
    EXPECT_EQ(stop(0, StopReason::Interrupt), "T02thread:p2.2;" + expedite(3));
}

TEST_F(GdbStubMultiTest, DetachingOneVmLeavesTheOtherDebugged)
{
    attach_mp();
    ASSERT_EQ(cmd("Hgp1.1"), "OK");
    ASSERT_EQ(cmd("Z0,ffff000010000004,4"), "OK");
    ASSERT_EQ(cmd("Hgp2.1"), "OK");
    ASSERT_EQ(cmd("Z0,ffff000010000008,4"), "OK");
    ASSERT_EQ(cmd("Z1,ffff00001000000c,4"), "OK");
    EXPECT_EQ(cmd("D;3"), "E02");
    EXPECT_EQ(cmd("D;x"), "E01");
    // gdb's `detach` of inferior 2: VM 1's breakpoints go and it runs.
    EXPECT_EQ(cmd("D;2"), "OK");
    EXPECT_EQ(target.mem1[kText + 8], 0xa8);
    EXPECT_TRUE(target.hw1.empty());
    EXPECT_EQ(target.mem[kText + 4], 0x20); // VM 0's stays
    EXPECT_EQ(target.resumes.back(),
              (std::vector<Action>{Action::Stop, Action::Stop, Action::Continue, Action::Continue}));
    EXPECT_TRUE(target.attached);
    EXPECT_FALSE(stub.running());
    EXPECT_EQ(cmd("qfThreadInfo"), "mp1.1,p1.2");
    EXPECT_EQ(cmd("qC"), "QCp1.1");
    EXPECT_EQ(cmd("Hgp2.1"), "E02");
    // Ctrl-C now stops VM 0 only.
    raw(frame("vCont;c"));
    raw("\x03");
    EXPECT_EQ(target.stop_masks.back(), 1u);
    stop(0, StopReason::Interrupt);
    // The last one ends the session.
    EXPECT_EQ(cmd("vKill;1"), "OK");
    EXPECT_FALSE(target.attached);
    EXPECT_EQ(target.mem[kText + 4], 0x14);
    EXPECT_EQ(target.resumes.back(), std::vector<Action>(4, Action::Continue));
    // A new session sees both again.
    attach_mp();
    EXPECT_EQ(cmd("qfThreadInfo"), "mp1.1,p1.2,p2.1,p2.2");
}
