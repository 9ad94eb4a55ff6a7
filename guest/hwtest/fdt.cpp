#include "fdt.h"

constinit u64 g_dtb = 0;

namespace {

constexpr u32 kMagic = 0xd00dfeed;
constexpr u32 kBeginNode = 1, kEndNode = 2, kProp = 3, kNop = 4, kEnd = 9;

u32 be32(const u8* p) { return u32{p[0]} << 24 | u32{p[1]} << 16 | u32{p[2]} << 8 | p[3]; }
const u8* base() { return reinterpret_cast<const u8*>(static_cast<uptr>(g_dtb)); }

bool str_eq(const char* a, const char* b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

usize str_len(const char* s)
{
    usize n = 0;
    while (s[n])
        n++;
    return n;
}

// `list` is a property of NUL-terminated strings.
bool list_has(const u8* list, u32 len, const char* want)
{
    for (u32 off = 0; off < len;) {
        const char* s = reinterpret_cast<const char*>(list + off);
        if (str_eq(s, want))
            return true;
        off += static_cast<u32>(str_len(s)) + 1;
    }
    return false;
}

} // namespace

bool fdt_valid()
{
    // Guest RAM only: the DTB the hypervisor gives sits inside it.
    return g_dtb >= 0x4000'0000 && g_dtb < 0x8000'0000 && (g_dtb & 7) == 0 && be32(base()) == kMagic;
}

u32 fdt_cell(const FdtProp& p, u32 i) { return 4 * i + 4 <= p.len ? be32(p.data + 4 * i) : 0; }

namespace {

// Walks the structure block; `want(depth, name, is_compatible_hit)` decides
// whether the node that just ended is the one. Properties come before
// subnodes, so at a node's end everything about it is known.
template <typename Match> bool fdt_walk(const char* compatible, const char* prop, Match match, FdtProp& out)
{
    if (!fdt_valid())
        return false;
    const u8* h = base();
    const u8* end = h + be32(h + 4);
    const u8* structs = h + be32(h + 8);
    const char* strings = reinterpret_cast<const char*>(h + be32(h + 12));
    constexpr u32 kMaxDepth = 16;
    struct Node {
        const char* name;
        bool compatible;
        bool have;
        FdtProp found;
    } stack[kMaxDepth];
    u32 depth = 0;
    for (const u8* p = structs; p + 4 <= end;) {
        const u32 tok = be32(p);
        p += 4;
        if (tok == kBeginNode) {
            if (depth == kMaxDepth)
                return false;
            const char* name = reinterpret_cast<const char*>(p);
            stack[depth++] = Node{name, false, false, {}};
            p += (str_len(name) + 4) & ~usize{3};
        } else if (tok == kProp) {
            if (!depth)
                return false;
            Node& n = stack[depth - 1];
            const u32 len = be32(p);
            const char* name = strings + be32(p + 4);
            const u8* data = p + 8;
            if (compatible && str_eq(name, "compatible") && list_has(data, len, compatible))
                n.compatible = true;
            if (str_eq(name, prop)) {
                n.found = FdtProp{data, len};
                n.have = true;
            }
            p = data + ((len + 3) & ~3u);
        } else if (tok == kEndNode) {
            if (!depth)
                return false;
            const Node& n = stack[--depth];
            if (n.have && match(depth, n)) {
                out = n.found;
                return true;
            }
        } else if (tok == kEnd) {
            break;
        } else if (tok != kNop) {
            return false;  // malformed
        }
    }
    return false;
}

} // namespace

bool fdt_find(const char* compatible, const char* prop, FdtProp& out)
{
    return fdt_walk(compatible, prop, [](u32, const auto& n) { return n.compatible; }, out);
}

bool fdt_find_child(const char* name, const char* prop, FdtProp& out)
{
    return fdt_walk(nullptr, prop, [name](u32 depth, const auto& n) { return depth == 1 && str_eq(n.name, name); },
                    out);
}
