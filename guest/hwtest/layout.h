// Constants shared by start.S and C++ (keep to #defines: included by asm).
#pragma once

#define MAX_CPUS 4
#define STACK_SIZE 0x4000

#define MAIR_DEVICE_nGnRnE 0x00
#define MAIR_DEVICE_nGnRE 0x04
#define MAIR_NORMAL_WB 0xff
#define TCR_EPD1 (1 << 23)

#define UNBACKED_IPA 0x0a100000
#define WALK_L3_TABLE_IPA 0x0a200000
#define WALK_L2_TABLE_IPA 0x0a300000

// Exception vector kinds (exception_entry's first argument).
#define VEC_SP0_SYNC 0
#define VEC_SP0_IRQ 1
#define VEC_SP0_FIQ 2
#define VEC_SP0_SERROR 3
#define VEC_SPX_SYNC 4
#define VEC_SPX_IRQ 5
#define VEC_SPX_FIQ 6
#define VEC_SPX_SERROR 7
#define VEC_LOWER_SYNC 8
#define VEC_LOWER_IRQ 9
#define VEC_LOWER_FIQ 10
#define VEC_LOWER_SERROR 11
#define VEC_LOWER32_SYNC 12
#define VEC_LOWER32_IRQ 13
#define VEC_LOWER32_FIQ 14
#define VEC_LOWER32_SERROR 15

// struct Frame (cpu.h): x0-x30, pc, spsr.
#define FRAME_X30 240
#define FRAME_PC 248
#define FRAME_SPSR 256
#define FRAME_SIZE 272
