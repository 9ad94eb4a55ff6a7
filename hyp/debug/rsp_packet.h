// GDB remote serial protocol, framing layer: `$payload#cs` packets with a
// two-digit hex checksum (sum of the raw payload bytes mod 256), `+`/`-`
// acknowledgements, `}` escapes (next byte XOR 0x20), `*` run-length
// encoding, and the out-of-band interrupt byte 0x03.
//
// PacketReader turns an arbitrary byte stream into events, one byte at a
// time, with a fixed buffer and no way to get stuck: a raw `$` always starts
// a new packet (gdb never sends one unescaped inside a packet), so a packet
// cut short by a disconnect or line noise is dropped at the next `$`. A
// payload longer than kMaxPayload is not stored; it is consumed up to its
// checksum and reported as Overlong (the caller naks it), or dropped at the
// next `$`. Bytes between packets other than `+`, `-` and 0x03 are ignored.
//
// PacketWriter builds one outgoing packet in a fixed buffer, escaping the
// four framing characters wherever they occur in the payload.
#pragma once
#include "types.h"

namespace rsp {

// The largest payload accepted, advertised to gdb as qSupported PacketSize.
constexpr usize kMaxPayload = 4096;
constexpr u8 kInterrupt = 0x03;

enum class RxEvent : u8 {
    None,         // byte consumed, nothing complete yet
    Packet,       // a packet with a good checksum: payload() / size()
    BadChecksum,  // complete, but checksum (or its digits, or an RLE count) wrong: nak it
    Overlong,     // complete, payload longer than kMaxPayload: nak it
    Ack,          // '+' between packets
    Nak,          // '-' between packets
    Interrupt,    // 0x03 between packets
};

class PacketReader {
public:
    constexpr PacketReader() = default;

    RxEvent feed(u8 c);
    void reset();

    // The decoded payload of the last Packet event (escapes and run lengths
    // expanded), NUL-terminated for convenience; it may contain NULs itself
    // (binary data), so use size(). Valid until the next feed().
    const char* payload() const { return buf_; }
    usize size() const { return len_; }

    // Bytes seen outside any packet that were not +, - or 0x03 (statistics).
    u64 garbage() const { return garbage_; }

private:
    enum class State : u8 { Idle, Body, Sum1, Sum2 };
    void store(char c);
    RxEvent finish();

    State state_ = State::Idle;
    bool escape_ = false;    // previous body byte was '}'
    bool run_ = false;       // previous body byte was '*': this one is the count
    bool overlong_ = false;
    bool malformed_ = false; // bad run-length encoding
    u8 sum_ = 0;             // running checksum of the raw body
    u8 rx_sum_ = 0;          // checksum digits as received
    bool sum_bad_digit_ = false;
    usize len_ = 0;
    u64 garbage_ = 0;
    char buf_[kMaxPayload + 1] = {};
};

class PacketWriter {
public:
    // Room for the largest payload we send, every byte escaped, plus framing.
    static constexpr usize kCapacity = 2 * kMaxPayload + 8;

    constexpr PacketWriter() = default;

    void begin();
    void put(char c);   // escaped when it is $, #, } or *
    void put_str(const char* s);
    void put_hex_byte(u8 b);
    void put_hex_le(u64 v, unsigned bytes);  // target byte order (little-endian)
    void put_hex_num(u64 v);                  // big-endian digits, no leading zeros
    void put_hex_bytes(const u8* p, usize n);
    // Closes the packet with its checksum. False if it did not fit (the
    // buffer then holds an empty packet `$#00`, which gdb reads as
    // "unsupported", rather than a truncated reply).
    bool end();

    // Payload bytes still free (before escaping), for callers sizing a reply.
    usize room() const { return kCapacity - 3 - len_; }
    const u8* data() const { return buf_; }
    usize size() const { return len_; }

private:
    void raw(u8 c);
    u8 buf_[kCapacity] = {};
    usize len_ = 0;
    u8 sum_ = 0;
    bool overflow_ = false;
};

// Hex helpers shared by the protocol engine and the tests.
int hex_digit(char c);  // 0..15, or -1
char hex_char(unsigned v);
u8 checksum(const char* p, usize n);

} // namespace rsp
