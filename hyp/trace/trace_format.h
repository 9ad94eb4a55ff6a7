// The hypervisor's event trace as it leaves the machine: records of fixed
// size, per pCPU, time-stamped with the physical counter. Shared by the
// hypervisor (trace.h) and the host tools (scripts/trace.py decodes the same
// layout: keep them in step; kTraceVersion says which).
//
// A dump is a header, then for each pCPU its records, oldest first:
//
//   TraceDumpHeader
//   TraceName[nnames]          names of the MMIO ranges per VM (exit reasons)
//   TracePcpuHeader, TraceRecord[count]   for pCPU 0, 1, ...
#pragma once
#include "types.h"

constexpr u32 kTraceVersion = 1;
constexpr char kTraceMagic[8] = {'H', 'Y', 'P', 'T', 'R', 'A', 'C', 'E'};
constexpr u8 kTraceNone = 0xff;  // no VM / no vCPU

// What happened. a, b, c are per type (the comment says which).
enum class TraceType : u16 {
    GuestEnter = 1,  // vCPU entered the guest
    ExitSync = 2,    // a = EC, b = ESR_EL2, c = IPA (aborts), sysreg key (EC 0x18), x0 (HVC/SMC)
    ExitIrq = 3,     // a = first physical INTID taken
    ExitOther = 4,   // a = exit kind (FIQ 2, SError 3), b = ESR_EL2
    Mmio = 5,        // a = MMIO range index in its VM, b = offset in it, c = width | write << 8
    SwitchIn = 6,    // vCPU gets its pCPU; a = TraceSwitch (why)
    SwitchOut = 7,   // vCPU leaves it; a = TraceSwitch (why)
    Block = 8,       // vCPU waits for an interrupt (WFI, CPU_SUSPEND)
    Wake = 9,        // vCPU runnable again; a = INTID that made it pending (or kTraceNoIntid)
    SgiSend = 10,    // a = INTID, b = target vCPU mask (in the sender's VM)
    IrqDeliver = 11, // a = vINTID placed in a list register of this vCPU, b = LR index
    IrqAck = 12,     // a = vINTID the guest acknowledged
    IrqDone = 13,    // a = vINTID the guest deactivated
    KickSend = 14,   // a = target pCPU
    KickRecv = 15,   // (on the kicked pCPU)
    Psci = 16,       // a = function ID, b = x0 returned
    BlkSubmit = 17,  // a = BlockRequest::Op (0 read, 1 write, 2 flush) | tag << 16, b = sector, c = bytes (VM, no vCPU)
    BlkComplete = 18,// a = 0 ok, 1 error; b = the device's request tag
    Idle = 19,       // the pCPU waits in WFI: nothing runnable
    IdleEnd = 20,    // ... and wakes
    VmState = 21,    // a = VmState (lifecycle.h): the VM's life cycle moved
};

enum class TraceSwitch : u32 {
    Turn = 0,       // its turn began or ended (slice end, round robin)
    Block = 1,      // the previous one waits (WFI) or is off
    Yield = 2,      // the previous one gave way (trapped WFE)
    Boost = 3,      // woken by an interrupt: runs out of turn
    Lend = 4,       // target of the running vCPU's IPI: runs out of turn
    Back = 5,       // an out-of-turn run ended: back to the vCPU whose turn it is
    First = 6,      // the pCPU's first vCPU
};

constexpr u32 kTraceNoIntid = 0xffff'ffff;

struct TraceRecord {
    u64 ts;      // CNTPCT_EL0
    u16 type;    // TraceType
    u8 vm;       // kTraceNone: not about a VM
    u8 vcpu;     // kTraceNone: not about a vCPU
    u32 a;
    u64 b;
    u64 c;
};
static_assert(sizeof(TraceRecord) == 32);

struct TraceDumpHeader {
    char magic[8];      // kTraceMagic
    u32 version;        // kTraceVersion
    u32 npcpus;
    u64 freq;           // CNTFRQ_EL0
    u32 nvms;
    u32 nnames;
    u32 mode;           // Mode (core/options.h): 0 multi, 1 single
    u32 events;         // the event filter (bit per TraceType), all ones: everything
};
static_assert(sizeof(TraceDumpHeader) == 40);

struct TraceName {
    u8 vm;
    u8 range;           // MMIO range index
    char name[14];      // NUL-terminated
};
static_assert(sizeof(TraceName) == 16);

struct TracePcpuHeader {
    u32 pcpu;
    u32 count;          // records that follow
    u64 dropped;        // the oldest records overwritten for lack of room
};
static_assert(sizeof(TracePcpuHeader) == 16);
