#include "debug/rsp_packet.h"

namespace rsp {

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char hex_char(unsigned v) { return "0123456789abcdef"[v & 15]; }

u8 checksum(const char* p, usize n)
{
    u8 s = 0;
    for (usize i = 0; i < n; i++)
        s = static_cast<u8>(s + static_cast<u8>(p[i]));
    return s;
}

void PacketReader::reset()
{
    state_ = State::Idle;
    escape_ = run_ = overlong_ = malformed_ = sum_bad_digit_ = false;
    sum_ = rx_sum_ = 0;
    len_ = 0;
    buf_[0] = 0;
}

void PacketReader::store(char c)
{
    if (len_ >= kMaxPayload) {
        overlong_ = true;
        return;
    }
    buf_[len_++] = c;
}

RxEvent PacketReader::finish()
{
    state_ = State::Idle;
    if (overlong_) {
        len_ = 0;
        buf_[0] = 0;
        return RxEvent::Overlong;
    }
    if (malformed_ || escape_ || run_ || sum_bad_digit_ || rx_sum_ != sum_) {
        len_ = 0;
        buf_[0] = 0;
        return RxEvent::BadChecksum;
    }
    buf_[len_] = 0;
    return RxEvent::Packet;
}

RxEvent PacketReader::feed(u8 c)
{
    if (c == '$') {
        // Start of a packet, wherever we were: an unfinished one is dropped.
        reset();
        state_ = State::Body;
        return RxEvent::None;
    }
    switch (state_) {
    case State::Idle:
        if (c == '+')
            return RxEvent::Ack;
        if (c == '-')
            return RxEvent::Nak;
        if (c == kInterrupt)
            return RxEvent::Interrupt;
        garbage_++;
        return RxEvent::None;
    case State::Body:
        if (c == '#') {
            state_ = State::Sum1;
            return RxEvent::None;
        }
        sum_ = static_cast<u8>(sum_ + c);
        if (run_) {
            run_ = false;
            // "*n": the previous character n-29 more times; n is printable.
            if (c < 32 || c > 126 || len_ == 0) {
                malformed_ = true;
                return RxEvent::None;
            }
            const char prev = buf_[len_ - 1];
            for (unsigned i = 0; i < c - 29u; i++)
                store(prev);
        } else if (escape_) {
            escape_ = false;
            store(static_cast<char>(c ^ 0x20));
        } else if (c == '}') {
            escape_ = true;
        } else if (c == '*') {
            run_ = true;
        } else {
            store(static_cast<char>(c));
        }
        return RxEvent::None;
    case State::Sum1:
    case State::Sum2: {
        const int d = hex_digit(static_cast<char>(c));
        if (d < 0)
            sum_bad_digit_ = true;
        rx_sum_ = static_cast<u8>((rx_sum_ << 4) | (d < 0 ? 0 : d));
        if (state_ == State::Sum1) {
            state_ = State::Sum2;
            return RxEvent::None;
        }
        return finish();
    }
    }
    return RxEvent::None;
}

void PacketWriter::begin()
{
    len_ = 0;
    sum_ = 0;
    overflow_ = false;
    buf_[len_++] = '$';
}

void PacketWriter::raw(u8 c)
{
    // Keep room for "#xx".
    if (len_ + 3 >= kCapacity) {
        overflow_ = true;
        return;
    }
    buf_[len_++] = c;
    sum_ = static_cast<u8>(sum_ + c);
}

void PacketWriter::put(char c)
{
    if (c == '$' || c == '#' || c == '}' || c == '*') {
        raw('}');
        raw(static_cast<u8>(c ^ 0x20));
    } else {
        raw(static_cast<u8>(c));
    }
}

void PacketWriter::put_str(const char* s)
{
    while (*s)
        put(*s++);
}

void PacketWriter::put_hex_byte(u8 b)
{
    raw(static_cast<u8>(hex_char(b >> 4)));
    raw(static_cast<u8>(hex_char(b)));
}

void PacketWriter::put_hex_le(u64 v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        put_hex_byte(static_cast<u8>(v >> (8 * i)));
}

void PacketWriter::put_hex_num(u64 v)
{
    int shift = 60;
    while (shift > 0 && ((v >> shift) & 15) == 0)
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        raw(static_cast<u8>(hex_char(static_cast<unsigned>(v >> shift))));
}

void PacketWriter::put_hex_bytes(const u8* p, usize n)
{
    for (usize i = 0; i < n; i++)
        put_hex_byte(p[i]);
}

bool PacketWriter::end()
{
    if (overflow_) {
        len_ = 0;
        buf_[len_++] = '$';
        sum_ = 0;
    }
    buf_[len_++] = '#';
    buf_[len_++] = static_cast<u8>(hex_char(sum_ >> 4));
    buf_[len_++] = static_cast<u8>(hex_char(sum_));
    return !overflow_;
}

} // namespace rsp
