// Small helpers over libfdt shared by host_platform.cpp and guest_dtb.cpp.
// All return 0 or a negative libfdt error (-FDT_ERR_*).
#pragma once
#include "types.h"

// Entry `index` of `node`'s reg property, decoded with the parent's
// #address-cells/#size-cells (1 or 2 cells each).
int dt_get_reg(const void* fdt, int node, int index, u64& base, u64& size);

// Replaces `node`'s reg with `n` (base, size) pairs encoded with the parent's
// cell counts; -FDT_ERR_BADVALUE if a value does not fit.
int dt_set_reg(void* fdt, int node, const u64 (*pairs)[2], int n);

// Like dt_get_reg's decoding, for a raw cell array (big-endian).
u64 dt_read_cells(const void* cells, int count);

// status absent, "okay" or "ok".
bool dt_node_enabled(const void* fdt, int node);

// First node (document order) compatible with `compat` and not disabled.
int dt_find_compatible(const void* fdt, const char* compat);
