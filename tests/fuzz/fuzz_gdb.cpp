// The guest gdb stub: remote-protocol framing (rsp::PacketReader/Writer)
// and the engine (gdb::Stub) against a fake all-stop target.
//
// Input: a program of operations: raw bytes from gdb, a well-framed packet
// with fuzzed payload, a packet built from a command template (memory,
// registers, breakpoints, resume, vCont, detach, qXfer, ...) with fuzzed
// arguments, Ctrl-C, the target finishing a stop, a lost connection.
// Invariants: everything the stub sends is a sequence of '+', '-' and
// well-formed packets with the right checksum and no unescaped framing
// byte; the all-stop contract holds (registers, memory and breakpoint
// registers only while every thread is stopped, request_stop() only while
// running, resume() only while stopped) and the stub's running() agrees
// with the target; after a detach no software breakpoint is left and the
// hardware breakpoints are cleared.
#include <set>
#include <string>

#include "debug/gdb_stub.h"
#include "fuzz.h"

using gdb::Action;
using gdb::StopEvent;
using gdb::StopReason;

namespace {

constexpr u64 kText = 0xffff'0000'1000'0000ull;
constexpr u64 kData = 0xffff'8000'0000'0000ull;
constexpr u64 kRegion = 256;

enum class TState : u8 { Running, StopRequested, Stopped };

struct FakeTarget final : gdb::Target {
    u32 n = 4;
    TState state = TState::Running;
    bool attached = false;
    gdb::Regs regs[gdb::Stub::kMaxThreads]{};
    u8 text[kRegion], data[kRegion];
    std::set<u64> brk_sites; // where a BRK was written: candidate breakpoints
    u32 nhw = 0;
    u32 slots = 2;

    u8* byte(u64 va)
    {
        if (va - kText < kRegion)
            return &text[va - kText];
        return va - kData < kRegion ? &data[va - kData] : nullptr;
    }
    void stopped_only() const { FUZZ_CHECK(state == TState::Stopped); }
    // One process (one VM): the multiprocess extension's forms still parse,
    // and every id names this process or is refused.
    u32 num_processes() override { return 1; }
    u32 num_threads(u32 process) override
    {
        FUZZ_CHECK(process == 0);
        return n;
    }
    void read_regs(u32 t, gdb::Regs& r) override
    {
        stopped_only();
        FUZZ_CHECK(t < n);
        r = regs[t];
    }
    bool write_regs(u32 t, const gdb::Regs& r) override
    {
        stopped_only();
        FUZZ_CHECK(t < n);
        regs[t] = r;
        return (r.cpsr & 0xf) != 0xf; // refuses some values, as the real one may
    }
    usize read_memory(u32 t, u64 va, u8* buf, usize len) override
    {
        stopped_only();
        FUZZ_CHECK(t < n);
        for (usize i = 0; i < len; i++) {
            u8* b = byte(va + i);
            if (!b)
                return i;
            buf[i] = *b;
        }
        return len;
    }
    usize write_memory(u32 t, u64 va, const u8* buf, usize len) override
    {
        stopped_only();
        FUZZ_CHECK(t < n);
        const u32 brk = gdb::Stub::kBrkInsn;
        if (len == 4 && std::memcmp(buf, &brk, 4) == 0)
            brk_sites.insert(va);
        for (usize i = 0; i < len; i++) {
            u8* b = byte(va + i);
            if (!b)
                return i;
            *b = buf[i];
        }
        return len;
    }
    u32 hw_breakpoint_slots() override { return slots; }
    void set_hw_breakpoints(u32 process, const u64*, u32 k) override
    {
        stopped_only();
        FUZZ_CHECK(process == 0);
        FUZZ_CHECK(k <= slots && k <= gdb::Stub::kMaxHwBreakpoints);
        nhw = k;
    }
    void set_attached(bool a) override
    {
        FUZZ_CHECK(a != attached);
        attached = a;
    }
    void request_stop(StopReason, u32 processes) override
    {
        FUZZ_CHECK(processes & 1);
        FUZZ_CHECK(state == TState::Running);
        state = TState::StopRequested;
    }
    void resume(const Action* a) override
    {
        stopped_only();
        bool any = false;
        for (u32 t = 0; t < n; t++)
            any |= a[t] != Action::Stop;
        // A stopped process with no thread to run stays stopped.
        if (any)
            state = TState::Running;
    }
    void thread_info(u32 t, char* buf, usize len) override
    {
        FUZZ_CHECK(t < n);
        std::snprintf(buf, len, "vCPU %u", t);
    }
};

struct Chan final : gdb::Channel {
    void write(const u8* p, usize k) override { out.append(reinterpret_cast<const char*>(p), k); }
    std::string out;
};

// What the stub sent: acks, naks and whole, correctly summed packets.
void check_output(const std::string& s)
{
    usize i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c == '+' || c == '-') {
            i++;
            continue;
        }
        FUZZ_CHECK(c == '$');
        usize j = i + 1;
        u8 sum = 0;
        while (j < s.size() && s[j] != '#') {
            FUZZ_CHECK(s[j] != '$'); // escaped inside a packet
            sum = static_cast<u8>(sum + static_cast<u8>(s[j]));
            j++;
        }
        FUZZ_CHECK(j + 3 <= s.size());
        FUZZ_CHECK(rsp::hex_digit(s[j + 1]) == (sum >> 4) && rsp::hex_digit(s[j + 2]) == (sum & 15));
        FUZZ_CHECK(j - i - 1 <= rsp::PacketWriter::kCapacity);
        i = j + 3;
    }
}

std::string frame(const std::string& body)
{
    char cs[3];
    std::snprintf(cs, sizeof cs, "%02x", rsp::checksum(body.data(), body.size()));
    return "$" + body + "#" + cs;
}

std::string hex(u64 v)
{
    char b[20];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
    return b;
}

std::string hex_bytes(fuzz::Input& in, usize n)
{
    std::string s;
    for (usize i = 0; i < n; i++) {
        char b[3];
        std::snprintf(b, sizeof b, "%02x", in.byte());
        s += b;
    }
    return s;
}

u64 address(fuzz::Input& in)
{
    switch (in.below(4)) {
    case 0: return kText + in.below(kRegion + 8) - 4;
    case 1: return kData + in.below(kRegion + 8) - 4;
    case 2: return (kText + in.below(kRegion / 4) * 4);
    default: return in.u64le();
    }
}

std::string thread_id(fuzz::Input& in)
{
    switch (in.below(5)) {
    case 0: return "-1";
    case 1: return "0";
    case 2: return "zz";
    default: return hex(1 + in.below(10));
    }
}

// A command as gdb would send it, arguments from the input.
std::string command(fuzz::Input& in)
{
    switch (in.below(24)) {
    case 0: return "?";
    case 1: return "g";
    case 2: return "G" + hex_bytes(in, in.flag() ? 788 / 2 : in.below(8));
    case 3: return "p" + hex(in.below(72));
    case 4: return "P" + hex(in.below(72)) + "=" + hex_bytes(in, in.pick((const usize[]){4, 8, 16, 3}));
    case 5: return "m" + hex(address(in)) + "," + hex(in.flag() ? in.below(16) : in.u16le());
    case 6: {
        const usize len = in.below(12);
        return "M" + hex(address(in)) + "," + hex(len) + ":" + hex_bytes(in, in.flag() ? len : in.below(12));
    }
    case 7: {
        const usize len = in.below(12);
        std::string d;
        for (usize i = 0; i < len; i++)
            d += static_cast<char>(in.byte());
        return "X" + hex(address(in)) + "," + hex(in.flag() ? len : in.below(12)) + ":" + d;
    }
    case 8:
    case 9: return std::string(in.flag() ? "Z" : "z") + hex(in.below(3)) + "," + hex(address(in)) + "," + hex(in.flag() ? 4 : in.below(9));
    case 10: return std::string(1, "csCS"[in.below(4)]) + (in.flag() ? hex(address(in)) : "");
    case 11: {
        std::string s = "vCont";
        for (u32 k = 1 + in.below(3); k; k--) {
            s += ";" + std::string(1, "csCSrt"[in.below(6)]);
            if (in.flag())
                s += hex(in.byte());
            if (in.flag())
                s += ":" + thread_id(in);
        }
        return s;
    }
    case 12: return "vCont?";
    case 13: return std::string("H") + (in.flag() ? "g" : "c") + thread_id(in);
    case 14: return "T" + thread_id(in);
    case 15: return "qXfer:features:read:target.xml:" + hex(in.u16le()) + "," + hex(in.u16le());
    case 16: return "qThreadExtraInfo," + thread_id(in);
    case 17: return in.flag() ? "qfThreadInfo" : "qsThreadInfo";
    case 18: return in.flag() ? "qC" : "qAttached";
    case 19: return in.flag() ? "QStartNoAckMode" : "qSupported:multiprocess+;swbreak+;hwbreak+";
    case 20: return in.flag() ? "D" : "k";
    case 21: return "vKill;1";
    case 22: return "qCRC:" + hex(address(in)) + "," + hex(in.byte());
    default: {
        std::string s;
        for (u32 k = in.below(16); k; k--)
            s += static_cast<char>(in.byte());
        return s;
    }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size)
{
    fuzz::Input in(data, size);
    FakeTarget target;
    target.n = 1 + in.below(gdb::Stub::kMaxThreads);
    target.slots = in.below(4);
    for (u64 i = 0; i < kRegion; i++) {
        target.text[i] = static_cast<u8>(i * 13);
        target.data[i] = static_cast<u8>(i);
    }
    Chan chan;
    gdb::Stub stub(target, chan);

    while (!in.done()) {
        std::string bytes;
        switch (in.below(8)) {
        case 0: { // raw bytes, framing errors included
            for (u32 k = 1 + in.below(48); k; k--)
                bytes += static_cast<char>(in.byte());
            break;
        }
        case 1: { // a good packet with any payload
            std::string body;
            for (u32 k = in.below(64); k; k--)
                body += static_cast<char>(in.byte());
            bytes = frame(body);
            break;
        }
        case 2:
        case 3:
        case 4: bytes = (in.flag() ? "+" : "") + frame(command(in)); break;
        case 5: bytes = "\x03"; break;
        case 6: // the target finished stopping, or a resumed thread stopped
            if (target.state == TState::StopRequested || (target.state == TState::Running && stub.attached())) {
                target.state = TState::Stopped;
                const StopReason why = static_cast<StopReason>(in.below(5));
                stub.stopped(StopEvent{in.below(target.n + 1), why});
            }
            break;
        default:
            if (in.below(4) == 0)
                stub.disconnected();
            break;
        }
        if (!bytes.empty())
            stub.receive(reinterpret_cast<const u8*>(bytes.data()), bytes.size());
        check_output(chan.out);
        chan.out.clear();
        FUZZ_CHECK(stub.running() == (target.state != TState::Stopped));
        FUZZ_CHECK(stub.attached() == target.attached);
        if (!stub.attached() && target.state == TState::Running) {
            // Detached and resumed: nothing of the debugger may stay behind.
            for (u64 a : target.brk_sites)
                FUZZ_CHECK(!stub.is_sw_breakpoint(0, a));
            FUZZ_CHECK(target.nhw == 0);
        }
    }
    return 0;
}
