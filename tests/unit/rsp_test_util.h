// Helpers shared by the RSP framing and protocol-engine tests.
#pragma once
#include <cstdio>
#include <string>

#include "debug/rsp_packet.h"

namespace rsp_test {

// "$body#cs" as gdb would send it.
inline std::string frame(const std::string& body)
{
    char cs[3];
    std::snprintf(cs, sizeof cs, "%02x", rsp::checksum(body.data(), body.size()));
    return "$" + body + "#" + cs;
}

// The two checksum digits of `body`.
inline std::string checksum_digits(const std::string& body) { return frame(body).substr(frame(body).size() - 2); }

} // namespace rsp_test
