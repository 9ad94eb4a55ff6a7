// What the gdb stub (gdb_stub.h) needs from the machine it debugs, as an
// interface the protocol engine calls and the host tests fake. Threads are
// vCPUs, numbered 0..num_threads()-1 here and 1..n on the wire.
//
// All-stop contract: the engine calls the register and memory functions
// only while the target is stopped (every thread stopped). request_stop()
// and resume() are asynchronous: after request_stop(), or after a resumed
// thread hits a breakpoint or finishes a step, the target calls
// gdb::Stub::stopped() once every thread has stopped.
#pragma once
#include "types.h"

namespace gdb {

// gdb's AArch64 register file (target.xml features org.gnu.gdb.aarch64.core
// and .fpu): x0-x30, sp, pc, cpsr (32 bits), v0-v31 (128 bits), fpsr, fpcr.
struct Regs {
    u64 x[31];
    u64 sp;
    u64 pc;
    u32 cpsr;
    u64 v[32][2];  // low, high 64 bits
    u32 fpsr;
    u32 fpcr;
};

// Register numbers in the `p`/`P` packets and stop replies.
constexpr unsigned kRegSp = 31;
constexpr unsigned kRegPc = 32;
constexpr unsigned kRegCpsr = 33;
constexpr unsigned kRegV0 = 34;
constexpr unsigned kRegFpsr = 66;
constexpr unsigned kRegFpcr = 67;
constexpr unsigned kNumRegs = 68;

enum class StopReason : u8 {
    SwBreak,    // a Z0 breakpoint (BRK) was hit
    HwBreak,    // a Z1 breakpoint (breakpoint register) was hit
    Step,       // a single step finished
    Interrupt,  // gdb's Ctrl-C
    Attach,     // gdb connected to a running guest
};

struct StopEvent {
    u32 thread;
    StopReason reason;
};

// Per-thread action on resume.
enum class Action : u8 { Stop, Continue, Step };

class Target {
public:
    virtual u32 num_threads() = 0;
    virtual void read_regs(u32 thread, Regs& r) = 0;
    // The target may refuse or sanitise values it cannot take (e.g. a cpsr
    // naming an exception level the guest may not run at).
    virtual bool write_regs(u32 thread, const Regs& r) = 0;
    // Guest virtual addresses, translated as `thread` would. Return the
    // number of bytes transferred from the start (fewer on a fault).
    virtual usize read_memory(u32 thread, u64 va, u8* buf, usize len) = 0;
    virtual usize write_memory(u32 thread, u64 va, const u8* buf, usize len) = 0;
    // Hardware breakpoints: the full set, applied to every thread at resume.
    virtual u32 hw_breakpoint_slots() = 0;
    virtual void set_hw_breakpoints(const u64* addrs, u32 n) = 0;
    // The debugger is attached: debug exceptions go to the stub.
    virtual void set_attached(bool attached) = 0;
    virtual void request_stop(StopReason why) = 0;
    virtual void resume(const Action* per_thread) = 0;
    // One line for qThreadExtraInfo ("vCPU 1 on pCPU 1, running").
    virtual void thread_info(u32 thread, char* buf, usize len) = 0;

protected:
    ~Target() = default;
};

// The byte channel to gdb.
class Channel {
public:
    virtual void write(const u8* p, usize n) = 0;

protected:
    ~Channel() = default;
};

} // namespace gdb
