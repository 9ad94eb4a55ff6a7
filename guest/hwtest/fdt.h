// Just enough of a flattened device tree reader (Devicetree Specification
// v0.4, chapter 5) to find a node by compatible string and read a
// property of it. The tree is the one the hypervisor passed in x0.
#pragma once
#include "base.h"

extern u64 g_dtb;  // x0 at entry; 0 when booted without one

struct FdtProp {
    const u8* data;
    u32 len;
};

// Whether g_dtb points at a tree (magic 0xd00dfeed).
bool fdt_valid();
// Property `prop` of the first node whose "compatible" list contains
// `compatible`. Returns false when there is no such node or property.
bool fdt_find(const char* compatible, const char* prop, FdtProp& out);
// Property `prop` of the root's child node `name` (e.g. "chosen").
bool fdt_find_child(const char* name, const char* prop, FdtProp& out);
// Big-endian 32-bit cell `i` of a property.
u32 fdt_cell(const FdtProp& p, u32 i);
