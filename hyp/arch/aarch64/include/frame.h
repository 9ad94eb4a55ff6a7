// The guest register frame the exception vectors save into directly, and the
// offsets the assembly uses. While a guest runs, SP_EL2 points at its vCPU's
// frame: the vector stores x0..x30 there before touching anything else, then
// loads the per-pCPU stack from `hyp_sp`.
#pragma once

#define FRAME_X(n) ((n) * 8)
#define FRAME_ELR 248
#define FRAME_SPSR 256
#define FRAME_HYP_SP 264
#define FRAME_SIZE 272

// Exit kinds passed from the vectors to handle_guest_exit().
#define EXIT_SYNC 0
#define EXIT_IRQ 1
#define EXIT_FIQ 2
#define EXIT_SERROR 3

// Frame of a hypervisor (current EL) exception, built on the pCPU stack.
#define HFRAME_ESR 248
#define HFRAME_ELR 256
#define HFRAME_FAR 264
#define HFRAME_SPSR 272
#define HFRAME_SP 280
#define HFRAME_SIZE 288

#ifndef __ASSEMBLER__
#include "types.h"

struct GuestRegs {
    u64 x[31];
    u64 elr;
    u64 spsr;
    u64 hyp_sp;
};
static_assert(__builtin_offsetof(GuestRegs, x) == FRAME_X(0));
static_assert(__builtin_offsetof(GuestRegs, elr) == FRAME_ELR);
static_assert(__builtin_offsetof(GuestRegs, spsr) == FRAME_SPSR);
static_assert(__builtin_offsetof(GuestRegs, hyp_sp) == FRAME_HYP_SP);
static_assert(sizeof(GuestRegs) == FRAME_SIZE);

struct HypFrame {
    u64 x[31];
    u64 esr, elr, far, spsr, sp;
};
static_assert(__builtin_offsetof(HypFrame, esr) == HFRAME_ESR);
static_assert(__builtin_offsetof(HypFrame, sp) == HFRAME_SP);
static_assert(sizeof(HypFrame) == HFRAME_SIZE);
#endif
