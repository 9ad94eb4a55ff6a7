// What the gdb stub (gdb_stub.h) needs from the machine it debugs, as an
// interface the protocol engine calls and the host tests fake. Processes
// are VMs and threads their vCPUs. Here a thread is a flat index: process
// 0's threads first (0..num_threads(0)-1), then process 1's, and so on; on
// the wire it is pPID.TID with PID = process + 1, TID = vCPU + 1 (gdb's
// multiprocess extension), or TID alone for a client without it, which
// sees process 0 only.
//
// Stop contract: request_stop() and resume() are asynchronous. A process
// stops as a whole: after request_stop(), or when a resumed thread hits a
// breakpoint or finishes a step, the target stops that thread's process
// and calls gdb::Stub::stopped() once all its threads have stopped
// (request_stop: once every process asked for has). Other processes may
// go on running meanwhile: the register and memory functions must then
// still answer for their threads without harm (registers as last saved;
// writes may be refused).
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
    u32 thread;  // flat index
    StopReason reason;
};

// Per-thread action on resume.
enum class Action : u8 { Stop, Continue, Step };

class Target {
public:
    virtual u32 num_processes() = 0;
    virtual u32 num_threads(u32 process) = 0;
    virtual void read_regs(u32 thread, Regs& r) = 0;
    // The target may refuse or sanitise values it cannot take (e.g. a cpsr
    // naming an exception level the guest may not run at).
    virtual bool write_regs(u32 thread, const Regs& r) = 0;
    // Guest virtual addresses, translated as `thread` would. Return the
    // number of bytes transferred from the start (fewer on a fault).
    virtual usize read_memory(u32 thread, u64 va, u8* buf, usize len) = 0;
    virtual usize write_memory(u32 thread, u64 va, const u8* buf, usize len) = 0;
    // Hardware breakpoints: the full set of one process, applied to each of
    // its threads before it runs guest code again.
    virtual u32 hw_breakpoint_slots() = 0;
    virtual void set_hw_breakpoints(u32 process, const u64* addrs, u32 n) = 0;
    // The debugger is attached: debug exceptions go to the stub.
    virtual void set_attached(bool attached) = 0;
    // Stop the processes in the mask (bit n: process n).
    virtual void request_stop(StopReason why, u32 processes) = 0;
    // Per flat thread. A stopped process with no thread to run stays
    // stopped; actions for threads of a process that runs are ignored.
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
