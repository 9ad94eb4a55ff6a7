// The fdt targets' view of a host DTB in the fuzz input: copied to 8-byte
// aligned memory of exactly its own size. A header that claims more bytes
// than there are is not a DTB the hypervisor could be handed (QEMU's lies
// wholly in the memory it reserves), so such inputs are skipped.
#pragma once
#include <libfdt.h>

#include <vector>

#include "fuzz.h"

namespace fuzz {

struct Dtb {
    std::vector<u64> store;
    usize size = 0;
    const void* data() const { return store.data(); }
    const u8* bytes() const { return reinterpret_cast<const u8*>(store.data()); }
    // Whether p points at a NUL-terminated string wholly inside the blob.
    bool holds_string(const char* p) const
    {
        const u8* b = bytes();
        const u8* s = reinterpret_cast<const u8*>(p);
        if (s < b || s >= b + size)
            return false;
        for (; s < b + size; s++)
            if (*s == 0)
                return true;
        return false;
    }
};

inline bool take_dtb(Input& in, Dtb& out)
{
    out.size = in.left();
    out.store.assign((out.size + 7) / 8, 0);
    in.bytes(out.store.data(), out.size);
    return out.size >= sizeof(fdt_header) && fdt_totalsize(out.data()) <= out.size;
}

} // namespace fuzz
