// The ticket lock word, shared by the generic and the AArch64 ticket lock
// implementations: owner in the low half, next ticket in the high half, so a
// debugger sees the same layout on both.
#pragma once
#include "types.h"

struct TicketWord {
    u16 owner;
    u16 next;
};
static_assert(sizeof(TicketWord) == 4);
