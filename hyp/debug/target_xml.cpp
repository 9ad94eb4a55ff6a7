// gdb's AArch64 register layout as a target description: the core feature
// (x0-x30, sp, pc, cpsr) and the FP/SIMD feature (v0-v31, fpsr, fpcr),
// numbered 0..67 in the order they appear, which is the order of gdb::Regs
// and of the `g` packet.
#include "debug/gdb_stub.h"

#define GDB_XREGS(R)                                                                     \
    R(0) R(1) R(2) R(3) R(4) R(5) R(6) R(7) R(8) R(9) R(10) R(11) R(12) R(13) R(14)      \
    R(15) R(16) R(17) R(18) R(19) R(20) R(21) R(22) R(23) R(24) R(25) R(26) R(27) R(28)  \
    R(29) R(30)
#define GDB_VREGS(R) GDB_XREGS(R) R(31)

#define GDB_X(n) "<reg name=\"x" #n "\" bitsize=\"64\" type=\"int\"/>"
#define GDB_V(n) "<reg name=\"v" #n "\" bitsize=\"128\" type=\"aarch64v\"/>"

namespace gdb {

const char kTargetXml[] =
    "<?xml version=\"1.0\"?>"
    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
    "<target version=\"1.0\">"
    "<architecture>aarch64</architecture>"
    "<feature name=\"org.gnu.gdb.aarch64.core\">"
    GDB_XREGS(GDB_X)
    "<reg name=\"sp\" bitsize=\"64\" type=\"data_ptr\"/>"
    "<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\"/>"
    "<reg name=\"cpsr\" bitsize=\"32\" type=\"int\"/>"
    "</feature>"
    "<feature name=\"org.gnu.gdb.aarch64.fpu\">"
    "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
    "<vector id=\"v2u\" type=\"uint64\" count=\"2\"/>"
    "<vector id=\"v2i\" type=\"int64\" count=\"2\"/>"
    "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
    "<vector id=\"v4u\" type=\"uint32\" count=\"4\"/>"
    "<vector id=\"v4i\" type=\"int32\" count=\"4\"/>"
    "<vector id=\"v8u\" type=\"uint16\" count=\"8\"/>"
    "<vector id=\"v8i\" type=\"int16\" count=\"8\"/>"
    "<vector id=\"v16u\" type=\"uint8\" count=\"16\"/>"
    "<vector id=\"v16i\" type=\"int8\" count=\"16\"/>"
    "<vector id=\"v1u\" type=\"uint128\" count=\"1\"/>"
    "<vector id=\"v1i\" type=\"int128\" count=\"1\"/>"
    "<union id=\"vnd\"><field name=\"f\" type=\"v2d\"/><field name=\"u\" type=\"v2u\"/>"
    "<field name=\"s\" type=\"v2i\"/></union>"
    "<union id=\"vns\"><field name=\"f\" type=\"v4f\"/><field name=\"u\" type=\"v4u\"/>"
    "<field name=\"s\" type=\"v4i\"/></union>"
    "<union id=\"vnh\"><field name=\"u\" type=\"v8u\"/><field name=\"s\" type=\"v8i\"/></union>"
    "<union id=\"vnb\"><field name=\"u\" type=\"v16u\"/><field name=\"s\" type=\"v16i\"/></union>"
    "<union id=\"vnq\"><field name=\"u\" type=\"v1u\"/><field name=\"s\" type=\"v1i\"/></union>"
    "<union id=\"aarch64v\"><field name=\"d\" type=\"vnd\"/><field name=\"s\" type=\"vns\"/>"
    "<field name=\"h\" type=\"vnh\"/><field name=\"b\" type=\"vnb\"/><field name=\"q\" type=\"vnq\"/></union>"
    GDB_VREGS(GDB_V)
    "<reg name=\"fpsr\" bitsize=\"32\" type=\"int\"/>"
    "<reg name=\"fpcr\" bitsize=\"32\" type=\"int\"/>"
    "</feature>"
    "</target>";

const usize kTargetXmlLen = sizeof kTargetXml - 1;

} // namespace gdb
