// Tokens of the hypervisor's text inputs (its command line, the machine
// description): a (pointer, length) slice of a string it does not own.
#pragma once
#include "types.h"

constexpr bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

struct Token {
    const char* s;
    usize n;

    bool equals(const char* lit) const;
};

// Decimal or 0x-prefixed hex, the whole token, no overflow.
bool parse_u64(Token t, u64& out);
