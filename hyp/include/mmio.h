// A trapped guest MMIO access, decoded once from ESR_EL2/HPFAR_EL2, and the
// interface every emulated device implements. The trap code owns register
// write-back and PC advance; devices only see the access record.
#pragma once
#include "types.h"

struct MmioAccess {
    u64 addr;          // IPA of the access
    u8 width;          // bytes: 1, 2, 4 or 8
    bool write;
    u8 reg;            // Xt; 31 is XZR
    bool sign_extend;  // loads only: SSE
    bool sf;           // Xt is 64-bit (else W register: upper half zeroed)
    u64 data;          // write: value to store (masked to width); read: device fills it
};

enum class MmioResult : u8 { Handled, Unhandled };

// Decodes a data abort ISS. Returns false when ISV=0 (the instruction cannot
// be emulated from the syndrome alone, e.g. LDP or writeback forms).
bool mmio_decode(u64 esr, u64 ipa, MmioAccess& out);

// Value a load must write to Xt: sign or zero extended, truncated for W regs.
u64 mmio_load_result(const MmioAccess& a);

class MmioDevice {
public:
    constexpr explicit MmioDevice(const char* name) : name_(name) {}
    MmioDevice(const MmioDevice&) = delete;
    MmioDevice& operator=(const MmioDevice&) = delete;

    // `offset` is relative to the registered base. `vcpu` is the accessor.
    virtual MmioResult access(u32 vcpu, u64 offset, MmioAccess& a) = 0;
    const char* name() const { return name_; }

protected:
    ~MmioDevice() = default;

private:
    const char* name_;
};

// Fixed table of IPA ranges; registration happens at boot, lookups run
// lock-free afterwards because the table never changes while guests run.
class MmioBus {
public:
    static constexpr unsigned kMaxRanges = 16;
    struct Range {
        u64 base;
        u64 size;
        MmioDevice* dev;
    };

    bool add(u64 base, u64 size, MmioDevice& dev);
    // Returns the range index handling `a.addr`, or -1.
    int find(u64 addr) const;
    MmioResult dispatch(u32 vcpu, MmioAccess& a, int* range_out = nullptr) const;
    unsigned count() const { return n_; }
    const Range& range(unsigned i) const { return ranges_[i]; }

private:
    Range ranges_[kMaxRanges]{};
    unsigned n_ = 0;
};
