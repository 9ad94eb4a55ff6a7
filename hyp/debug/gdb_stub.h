// The gdb remote protocol engine: packets in (from a Channel, through
// rsp::PacketReader), replies and stop notifications out, commands carried
// out on a gdb::Target. Generic: no AArch64 instructions, fixed buffers, no
// heap; the host tests drive it with a fake target and channel.
//
// Session model (gdb's all-stop mode, seen per process):
//  * Running, detached: the guest runs, debug exceptions stay in the guest.
//    The first packet (or Ctrl-C) attaches: the target is asked to stop
//    every process the client sees, the packet waits in a one-packet slot
//    and is answered once they have stopped. Connecting gdb therefore stops
//    the guests.
//  * Stopped: every command is served. c/s/C/S/vCont resume (all threads,
//    or only some: threads vCont gives no action stay stopped).
//  * Running, attached: only Ctrl-C (0x03) is expected (it stops every
//    process again); a packet is treated like a new connection's first
//    packet (stop, then answer). A breakpoint or a step stops the process
//    it happened in and sends a T stop reply naming its thread; the other
//    processes run on although gdb, in all-stop mode, takes them as
//    stopped (see docs/debugging.md, "Several VMs").
//  * D, k, vKill and a lost connection detach: breakpoints are removed from
//    guest memory and the hardware, debug exceptions go back to the guest,
//    and every thread resumes. D;pid and vKill;pid detach one process
//    (gdb's `detach` of one inferior); the last one detaches the session.
// Processes: with gdb's multiprocess extension (qSupported multiprocess+)
// every process is listed and thread ids are pPID.TID; a client without it
// sees process 0 alone, with plain TIDs, and stops only that process.
// Framing errors never change this state: a bad checksum, an overlong or
// truncated packet gets a nak (`-`) and is forgotten.
#pragma once
#include "debug/gdb_target.h"
#include "debug/rsp_packet.h"
#include "types.h"

namespace gdb {

struct StubStats {
    u64 packets;      // good packets received
    u64 bad;          // naked: bad checksum, malformed, overlong
    u64 interrupts;   // 0x03 received
    u64 stops;        // stop replies sent
};

class Stub {
public:
    static constexpr u32 kMaxProcesses = 4;
    static constexpr u32 kMaxThreads = 16;  // over all processes
    static constexpr u32 kMaxSwBreakpoints = 64;
    static constexpr u32 kMaxHwBreakpoints = 16;
    static constexpr u32 kBrkImm = 0x7f1;                   // BRK #imm for Z0, unused by Linux
    static constexpr u32 kBrkInsn = 0xd420'0000 | (kBrkImm << 5);

    constexpr Stub(Target& t, Channel& c) : target_(t), chan_(c) {}

    // Bytes from gdb.
    void receive(const u8* p, usize n);
    // The target finished stopping (all threads), for the reason given.
    void stopped(const StopEvent& e);
    // The connection closed (or a new one replaced it): detach if attached
    // and forget protocol state.
    void disconnected();

    bool attached() const { return attached_; }
    bool running() const { return state_ != State::Stopped; }
    // Is `va` one of our inserted Z0 breakpoints in `process`? (The target
    // need not ask: a BRK with kBrkImm is ours wherever it is.)
    bool is_sw_breakpoint(u32 process, u64 va) const;
    bool multiprocess() const { return multiprocess_; }
    const StubStats& stats() const { return stats_; }

private:
    enum class State : u8 { Running, Stopping, Stopped };
    struct SwBreakpoint {
        u64 addr;
        u32 thread;  // whose translation inserted it
        u32 process;
        u8 orig[4];
        bool used;
    };
    // A thread id as the wire gives it: pid/tid -1 all, 0 any, else 1-based.
    struct ThreadId {
        i64 pid;
        i64 tid;
    };

    void on_packet(const char* p, usize n);
    void dispatch(const char* p, usize n);
    void parse_features(const char* p, usize n);
    void attach_and_stop(StopReason why);
    void detach();

    // Reply helpers: begin(); put...; send().
    void begin() { out_.begin(); }
    void send();
    void reply(const char* s);
    void reply_error(u8 code);
    void send_stop_reply();

    // Commands.
    void cmd_query(const char* p, usize n);
    void cmd_set_thread(const char* p);
    void cmd_read_regs();
    void cmd_write_regs(const char* p, usize n);
    void cmd_read_reg(const char* p);
    void cmd_write_reg(const char* p);
    void cmd_read_mem(const char* p);
    void cmd_write_mem(const char* p, usize n, bool binary);
    void cmd_breakpoint(const char* p, bool insert);
    void cmd_resume_legacy(const char* p, bool step, bool with_signal);
    void cmd_vcont(const char* p);
    void cmd_xfer_features(const char* annex_and_range);
    void cmd_detach(const char* p, usize n);

    // Processes and flat thread indexes (gdb_target.h).
    u32 num_processes();               // the processes this client sees
    bool listed(u32 process);          // seen and not detached
    u32 first_thread(u32 process);     // its first flat index
    u32 num_threads();                 // flat indexes of the processes seen
    u32 process_of(u32 t);
    u32 all_processes_mask();          // the listed ones
    void put_thread(u32 t);            // as the wire names it

    bool parse_thread(const char*& p, ThreadId& id);
    // One thread named by `id` (any: the first of its process): false if
    // there is none.
    bool resolve_thread(const ThreadId& id, u32& t);
    bool thread_matches(const ThreadId& id, u32 t);
    void resume_with(Action* a);
    void detach_process(u32 process);

    usize read_shadowed(u32 t, u64 va, u8* buf, usize len);
    usize write_shadowed(u32 t, u64 va, const u8* buf, usize len);
    bool insert_sw(u32 t, u64 addr);
    bool remove_sw(u32 process, u64 addr);
    void remove_all_breakpoints(u32 process);

    Target& target_;
    Channel& chan_;
    rsp::PacketReader in_{};
    rsp::PacketWriter out_{};
    State state_ = State::Running;
    bool attached_ = false;
    bool noack_ = false;
    bool gdb_swbreak_ = false;  // gdb understands swbreak/hwbreak stop reasons
    bool gdb_hwbreak_ = false;
    bool multiprocess_ = false; // negotiated in qSupported
    u32 detached_ = 0;          // processes gdb detached from (D;pid), bit per process
    bool have_reply_ = false;   // out_ holds a reply a nak may ask for again
    bool waiting_stop_ = false; // gdb resumed us or sent Ctrl-C: it waits for a stop reply
    bool detach_pending_ = false; // lost the connection while running: detach once stopped
    StopEvent last_stop_{0, StopReason::Attach};
    u32 gthread_ = 0;           // Hg: registers and memory (flat index)
    ThreadId cthread_{-1, -1};  // Hc: legacy c/s
    SwBreakpoint sw_[kMaxSwBreakpoints]{};
    u64 hw_[kMaxProcesses][kMaxHwBreakpoints]{};
    u32 nhw_[kMaxProcesses]{};
    bool deferred_ = false;
    usize deferred_len_ = 0;
    char deferred_buf_[rsp::kMaxPayload + 1]{};
    u8 mem_[rsp::kMaxPayload / 2]{};
    StubStats stats_{};
};

// The target description served through qXfer:features:read:target.xml.
extern const char kTargetXml[];
extern const usize kTargetXmlLen;  // without the NUL

} // namespace gdb
