// The RSP framing layer: every way a byte stream can be wrong, and that the
// reader always recovers at the next packet.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "debug/rsp_packet.h"
#include "rsp_test_util.h"

using rsp::RxEvent;

namespace {

using rsp_test::frame;

struct Fed {
    std::vector<RxEvent> events;      // every event other than None
    std::vector<std::string> packets; // payloads of Packet events
};

Fed feed(rsp::PacketReader& r, const std::string& bytes)
{
    Fed f;
    for (unsigned char c : bytes) {
        const RxEvent e = r.feed(c);
        if (e == RxEvent::None)
            continue;
        f.events.push_back(e);
        if (e == RxEvent::Packet)
            f.packets.emplace_back(r.payload(), r.size());
    }
    return f;
}

class RspReaderTest : public ::testing::Test {
protected:
    rsp::PacketReader r;
};

TEST_F(RspReaderTest, GoodPacketIsDeliveredWithItsPayload)
{
    const Fed f = feed(r, frame("qSupported:swbreak+"));
    ASSERT_EQ(f.events, std::vector<RxEvent>{RxEvent::Packet});
    EXPECT_EQ(f.packets[0], "qSupported:swbreak+");
    EXPECT_EQ(r.payload()[r.size()], '\0');
}

TEST_F(RspReaderTest, ChecksumDigitsMayBeUpperCase)
{
    // 'g' = 0x67; "m0,4" sums to 0x... so pick one with letters: "?" = 0x3f.
    EXPECT_EQ(feed(r, "$?#3F").packets, std::vector<std::string>{"?"});
    EXPECT_EQ(feed(r, "$?#3f").packets, std::vector<std::string>{"?"});
}

TEST_F(RspReaderTest, EmptyPacket)
{
    const Fed f = feed(r, "$#00");
    ASSERT_EQ(f.packets.size(), 1u);
    EXPECT_EQ(f.packets[0], "");
}

TEST_F(RspReaderTest, BadChecksumIsReportedAndTheNextPacketWorks)
{
    Fed f = feed(r, "$g#68");
    EXPECT_EQ(f.events, std::vector<RxEvent>{RxEvent::BadChecksum});
    EXPECT_TRUE(f.packets.empty());
    f = feed(r, frame("g"));
    EXPECT_EQ(f.packets, std::vector<std::string>{"g"});
}

TEST_F(RspReaderTest, NonHexChecksumDigitIsABadChecksum)
{
    EXPECT_EQ(feed(r, "$g#6z").events, std::vector<RxEvent>{RxEvent::BadChecksum});
    EXPECT_EQ(feed(r, "$g#z7").events, std::vector<RxEvent>{RxEvent::BadChecksum});
    EXPECT_EQ(feed(r, frame("g")).packets.size(), 1u);
}

TEST_F(RspReaderTest, GarbageBeforeThePacketIsIgnoredAndCounted)
{
    const Fed f = feed(r, "hello\r\n\xff" + frame("?"));
    EXPECT_EQ(f.events, std::vector<RxEvent>{RxEvent::Packet});
    EXPECT_EQ(f.packets[0], "?");
    EXPECT_EQ(r.garbage(), 8u);
}

TEST_F(RspReaderTest, TruncatedPacketIsDroppedAtTheNextDollar)
{
    // A packet cut off in its body, then one cut off in its checksum.
    const Fed f = feed(r, "$m ffff0000,4" "$g#6" + frame("qC"));
    EXPECT_EQ(f.events, std::vector<RxEvent>{RxEvent::Packet});
    EXPECT_EQ(f.packets[0], "qC");
}

TEST_F(RspReaderTest, AcksNaksAndInterruptBetweenPackets)
{
    const Fed f = feed(r, std::string("+-\x03", 3));
    EXPECT_EQ(f.events, (std::vector<RxEvent>{RxEvent::Ack, RxEvent::Nak, RxEvent::Interrupt}));
}

TEST_F(RspReaderTest, InterruptByteInsideAPacketIsData)
{
    const std::string body = std::string("X0,1:") + '\x03';
    const Fed f = feed(r, frame(body));
    ASSERT_EQ(f.packets.size(), 1u);
    EXPECT_EQ(f.packets[0], body);
    EXPECT_EQ(f.events.size(), 1u); // no Interrupt event
}

TEST_F(RspReaderTest, EscapesAreDecodedAndTheChecksumCoversTheRawBytes)
{
    // }\x03 is '#', }\x04 is '$', }] is '}', }\x0a is '*'.
    const std::string raw = std::string("X0,4:") + "}\x03" + "}\x04" + "}]" + "}\x0a";
    const Fed f = feed(r, frame(raw));
    ASSERT_EQ(f.packets.size(), 1u);
    EXPECT_EQ(f.packets[0], "X0,4:#$}*");
}

TEST_F(RspReaderTest, EscapeAtTheEndIsMalformed)
{
    EXPECT_EQ(feed(r, frame("ab}")).events, std::vector<RxEvent>{RxEvent::BadChecksum});
    EXPECT_EQ(feed(r, frame("ok")).packets, std::vector<std::string>{"ok"});
}

TEST_F(RspReaderTest, RunLengthIsExpanded)
{
    // '*' then ' ' (32): 3 more copies; '*' then '"' (34): 5 more.
    const Fed f = feed(r, frame("0* 1*\""));
    ASSERT_EQ(f.packets.size(), 1u);
    EXPECT_EQ(f.packets[0], "0000111111");
}

TEST_F(RspReaderTest, MalformedRunLengthIsRejected)
{
    EXPECT_EQ(feed(r, frame("* ")).events, std::vector<RxEvent>{RxEvent::BadChecksum});        // nothing to repeat
    EXPECT_EQ(feed(r, frame("0*\x1f")).events, std::vector<RxEvent>{RxEvent::BadChecksum});    // count unprintable
    EXPECT_EQ(feed(r, frame("0*")).events, std::vector<RxEvent>{RxEvent::BadChecksum});        // count missing
    EXPECT_EQ(feed(r, frame("fine")).packets, std::vector<std::string>{"fine"});
}

TEST_F(RspReaderTest, PayloadOfExactlyTheMaximumIsAccepted)
{
    const std::string body(rsp::kMaxPayload, 'a');
    const Fed f = feed(r, frame(body));
    ASSERT_EQ(f.packets.size(), 1u);
    EXPECT_EQ(f.packets[0].size(), rsp::kMaxPayload);
}

TEST_F(RspReaderTest, OverlongPacketIsDiscardedWholeThenTheReaderResynchronises)
{
    const std::string body(rsp::kMaxPayload + 1, 'a');
    Fed f = feed(r, frame(body));
    EXPECT_EQ(f.events, std::vector<RxEvent>{RxEvent::Overlong});
    // Its tail must not have been taken for a new packet or for acks.
    f = feed(r, frame("?"));
    EXPECT_EQ(f.events, std::vector<RxEvent>{RxEvent::Packet});
    EXPECT_EQ(f.packets[0], "?");
}

TEST_F(RspReaderTest, OverlongByRunLengthIsOverlong)
{
    std::string body = "a";
    for (usize i = 0; i < rsp::kMaxPayload / 97 + 2; i++)
        body += "*~"; // 97 more each
    EXPECT_EQ(feed(r, frame(body)).events, std::vector<RxEvent>{RxEvent::Overlong});
}

TEST_F(RspReaderTest, OverlongWithoutEndIsDroppedAtTheNextDollar)
{
    const std::string junk = "$" + std::string(3 * rsp::kMaxPayload, 'z');
    const Fed f = feed(r, junk + frame("qC"));
    EXPECT_EQ(f.events, std::vector<RxEvent>{RxEvent::Packet});
    EXPECT_EQ(f.packets[0], "qC");
}

TEST_F(RspReaderTest, ResetForgetsAPartialPacket)
{
    feed(r, "$m1234,");
    r.reset();
    // Without the reset these bytes would end the old packet.
    const Fed f = feed(r, "4#00" + frame("g"));
    EXPECT_EQ(f.packets, std::vector<std::string>{"g"});
}

TEST_F(RspReaderTest, BinaryPayloadKeepsNulBytes)
{
    const std::string body = std::string("X10,3:") + '\0' + '\x01' + '\0';
    const Fed f = feed(r, frame(body));
    ASSERT_EQ(f.packets.size(), 1u);
    EXPECT_EQ(f.packets[0], body);
}

TEST(RspWriterTest, FramesWithChecksum)
{
    rsp::PacketWriter w;
    w.begin();
    w.put_str("OK");
    EXPECT_TRUE(w.end());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(w.data()), w.size()), "$OK#9a");
}

TEST(RspWriterTest, EscapesFramingCharacters)
{
    rsp::PacketWriter w;
    w.begin();
    w.put_str("a$b#c}d*e");
    w.end();
    const std::string s(reinterpret_cast<const char*>(w.data()), w.size());
    const std::string body = "a}\x04" "b}\x03" "c}]d}\x0a" "e";
    EXPECT_EQ(s.substr(0, s.size() - 3), "$" + body);
    EXPECT_EQ(s.substr(s.size() - 2), rsp_test::checksum_digits(body));
    // And our own reader decodes it back.
    rsp::PacketReader r;
    std::vector<std::string> got = feed(r, s).packets;
    EXPECT_EQ(got, std::vector<std::string>{"a$b#c}d*e"});
}

TEST(RspWriterTest, HexHelpers)
{
    rsp::PacketWriter w;
    w.begin();
    w.put_hex_le(0x1122334455667788ull, 8);
    w.put(',');
    w.put_hex_le(0xabcd, 2);
    w.put(',');
    w.put_hex_num(0);
    w.put(',');
    w.put_hex_num(0x1000);
    w.end();
    const std::string s(reinterpret_cast<const char*>(w.data()), w.size());
    EXPECT_EQ(s.substr(1, s.size() - 4), "8877665544332211,cdab,0,1000");
}

TEST(RspWriterTest, OverflowGivesAnEmptyPacketNotATruncatedOne)
{
    rsp::PacketWriter w;
    w.begin();
    for (usize i = 0; i < rsp::PacketWriter::kCapacity; i++)
        w.put('x');
    EXPECT_FALSE(w.end());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(w.data()), w.size()), "$#00");
    // The writer is usable again.
    w.begin();
    w.put_str("OK");
    EXPECT_TRUE(w.end());
}

TEST(RspHexTest, Digits)
{
    EXPECT_EQ(rsp::hex_digit('0'), 0);
    EXPECT_EQ(rsp::hex_digit('9'), 9);
    EXPECT_EQ(rsp::hex_digit('a'), 10);
    EXPECT_EQ(rsp::hex_digit('F'), 15);
    EXPECT_EQ(rsp::hex_digit('g'), -1);
    EXPECT_EQ(rsp::hex_digit('#'), -1);
    EXPECT_EQ(rsp::hex_char(11), 'b');
}

} // namespace
