// PL011 UART register map and bit fields (Arm PrimeCell UART (PL011)
// Technical Reference Manual, DDI 0183).
#pragma once
#include "types.h"

namespace pl011 {

enum class Reg : u64 {
    Dr = 0x000,        // UARTDR
    RsrEcr = 0x004,    // UARTRSR/UARTECR
    Fr = 0x018,        // UARTFR
    Ilpr = 0x020,      // UARTILPR
    Ibrd = 0x024,      // UARTIBRD
    Fbrd = 0x028,      // UARTFBRD
    LcrH = 0x02C,      // UARTLCR_H
    Cr = 0x030,        // UARTCR
    Ifls = 0x034,      // UARTIFLS
    Imsc = 0x038,      // UARTIMSC
    Ris = 0x03C,       // UARTRIS
    Mis = 0x040,       // UARTMIS
    Icr = 0x044,       // UARTICR
    Dmacr = 0x048,     // UARTDMACR
    PeriphId0 = 0xFE0, // UARTPeriphID0
    PeriphId1 = 0xFE4, // UARTPeriphID1
    PeriphId2 = 0xFE8, // UARTPeriphID2
    PeriphId3 = 0xFEC, // UARTPeriphID3
    PCellId0 = 0xFF0,  // UARTPCellID0
    PCellId1 = 0xFF4,  // UARTPCellID1
    PCellId2 = 0xFF8,  // UARTPCellID2
    PCellId3 = 0xFFC,  // UARTPCellID3
};

// UARTFR
constexpr u32 kFrCts = bit(0);   // CTS
constexpr u32 kFrDsr = bit(1);   // DSR
constexpr u32 kFrDcd = bit(2);   // DCD
constexpr u32 kFrBusy = bit(3);  // BUSY
constexpr u32 kFrRxfe = bit(4);  // RXFE
constexpr u32 kFrTxff = bit(5);  // TXFF
constexpr u32 kFrRxff = bit(6);  // RXFF
constexpr u32 kFrTxfe = bit(7);  // TXFE

// UARTCR
constexpr u32 kCrUarten = bit(0);  // UARTEN
constexpr u32 kCrTxe = bit(8);     // TXE
constexpr u32 kCrRxe = bit(9);     // RXE

// Interrupt bits, shared by UARTIMSC, UARTRIS, UARTMIS and UARTICR.
constexpr u32 kIntRx = bit(4);  // RXIM / RXRIS / RXMIS / RXIC
constexpr u32 kIntTx = bit(5);  // TXIM / TXRIS / TXMIS / TXIC
constexpr u32 kIntRt = bit(6);  // RTIM / RTRIS / RTMIS / RTIC

// Implemented widths of the plain storage registers.
constexpr u32 kIlprMask = 0xFF;
constexpr u32 kIbrdMask = 0xFFFF;
constexpr u32 kFbrdMask = 0x3F;
constexpr u32 kLcrHMask = 0xFF;
constexpr u32 kCrMask = 0xFF87;   // bits [6:3] are reserved
constexpr u32 kIflsMask = 0x3F;
constexpr u32 kImscMask = 0x7FF;
constexpr u32 kDmacrMask = 0x7;

// Reset values (TRM, register summary).
constexpr u32 kCrReset = kCrTxe | kCrRxe;  // 0x300
constexpr u32 kIflsReset = 0x12;           // both FIFOs at half full

// UARTPeriphID0-3 then UARTPCellID0-3: part 0x011, designer 0x41 (Arm),
// then the PrimeCell signature the AMBA bus probe checks.
inline constexpr u8 kIdRegs[8] = {0x11, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1};

} // namespace pl011
