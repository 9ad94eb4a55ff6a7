// The hypervisor's command line (hyp/core/options.cpp), from QEMU's -append
// through /chosen/bootargs: a host input parsed first thing at boot.
// Input: the command line, NUL-terminated here as the DTB's string is.
// Invariants: a refusal is one NUL-terminated line; an acceptance gives a
// mode, a time slice of 1..1000 ms, a NUL-terminated trace filter and a
// guest command line that is the text after " -- " (or empty), whole.
#include <cstring>
#include <string>

#include "core/options.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size)
{
    std::string line(reinterpret_cast<const char*>(data), size);
    if (line.find('\0') != std::string::npos)
        line.resize(line.find('\0'));
    Options o;
    char err[160];
    std::memset(err, 0x5a, sizeof err);
    if (!parse_options(line.c_str(), o, err, sizeof err)) {
        FUZZ_CHECK(std::memchr(err, '\0', sizeof err) != nullptr);
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(std::strchr(err, '\n') == nullptr);
        return 0;
    }
    FUZZ_CHECK(o.mode == Mode::Multi || o.mode == Mode::Single);
    FUZZ_CHECK(o.timeslice_ms >= 1 && o.timeslice_ms <= 1000);
    FUZZ_CHECK(std::memchr(o.trace_events, '\0', sizeof o.trace_events) != nullptr);
    FUZZ_CHECK(std::memchr(o.guest_cmdline, '\0', sizeof o.guest_cmdline) != nullptr);
    const usize sep = line.find("--");
    if (o.guest_cmdline[0])
        FUZZ_CHECK(sep != std::string::npos && line.find(o.guest_cmdline, sep) != std::string::npos);
    return 0;
}
