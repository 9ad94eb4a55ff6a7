#include <gtest/gtest.h>

#include <string>

#include "core/options.h"

namespace {

struct Parsed {
    bool ok;
    Options opt;
    std::string err;
};

Parsed parse(const char* bootargs)
{
    Parsed p{};
    char err[160];
    p.ok = parse_options(bootargs, p.opt, err, sizeof(err));
    p.err = err;
    return p;
}

TEST(Options, DefaultsForEmptyAndNull)
{
    for (const char* args : {static_cast<const char*>(nullptr), "", "   "}) {
        const Parsed p = parse(args);
        ASSERT_TRUE(p.ok) << p.err;
        EXPECT_EQ(p.opt.mode, Mode::Multi);
        EXPECT_EQ(p.opt.initrd_size, 0u);
        EXPECT_EQ(p.opt.timeslice_ms, 10u);
        EXPECT_FALSE(p.opt.gdb);
        EXPECT_FALSE(p.opt.debug) << "a panic powers off unless a debugger is said to be attached";
        EXPECT_STREQ(p.opt.guest_cmdline, "");
        EXPECT_EQ(p.err, "");
    }
}

TEST(Options, QemuAppendExample)
{
    const Parsed p = parse("mode=multi initrd_size=0x1000 -- console=ttyAMA0");
    ASSERT_TRUE(p.ok) << p.err;
    EXPECT_EQ(p.opt.mode, Mode::Multi);
    EXPECT_EQ(p.opt.initrd_size, 0x1000u);
    EXPECT_STREQ(p.opt.guest_cmdline, "console=ttyAMA0");
}

TEST(Options, AllOptions)
{
    const Parsed p = parse("  mode=single\tinitrd_size=1048576 timeslice_ms=1000 gdb=1 debug=1  --   "
                           "console=ttyAMA0 earlycon rdinit=/init  ");
    ASSERT_TRUE(p.ok) << p.err;
    EXPECT_EQ(p.opt.mode, Mode::Single);
    EXPECT_EQ(p.opt.initrd_size, 1048576u);
    EXPECT_EQ(p.opt.timeslice_ms, 1000u);
    EXPECT_TRUE(p.opt.gdb);
    EXPECT_TRUE(p.opt.debug);
    EXPECT_STREQ(p.opt.guest_cmdline, "console=ttyAMA0 earlycon rdinit=/init");
}

TEST(Options, OnlyFirstDoubleDashSplits)
{
    const Parsed p = parse("gdb=0 -- init=/bin/sh -- -x");
    ASSERT_TRUE(p.ok) << p.err;
    EXPECT_STREQ(p.opt.guest_cmdline, "init=/bin/sh -- -x");
}

TEST(Options, DoubleDashMustStandAlone)
{
    // "--foo" is a (bad) option, not the separator.
    const Parsed p = parse("--foo console=ttyAMA0");
    EXPECT_FALSE(p.ok);
    EXPECT_NE(p.err.find("'--foo'"), std::string::npos) << p.err;
}

TEST(Options, NoSeparatorMeansEmptyGuestCmdline)
{
    const Parsed p = parse("mode=single");
    ASSERT_TRUE(p.ok) << p.err;
    EXPECT_STREQ(p.opt.guest_cmdline, "");
    const Parsed q = parse("mode=single --");
    ASSERT_TRUE(q.ok) << q.err;
    EXPECT_STREQ(q.opt.guest_cmdline, "");
}

TEST(Options, HexAndDecimalSizes)
{
    EXPECT_EQ(parse("initrd_size=0XAbC").opt.initrd_size, 0xabcu);
    EXPECT_EQ(parse("initrd_size=0").opt.initrd_size, 0u);
    EXPECT_EQ(parse("initrd_size=0xffffffffffffffff").opt.initrd_size, ~u64{0});
    EXPECT_EQ(parse("timeslice_ms=0x10").opt.timeslice_ms, 16u);
    EXPECT_EQ(parse("timeslice_ms=1").opt.timeslice_ms, 1u);
}

TEST(Options, BadModeNamesTokenAndChoices)
{
    const Parsed p = parse("mode=fast");
    EXPECT_FALSE(p.ok);
    EXPECT_EQ(p.err, "bad option 'mode=fast': expected mode=multi or mode=single");
}

TEST(Options, BadValuesRejected)
{
    struct Case {
        const char* args;
        const char* expect_in_err;
    };
    const Case cases[] = {
        {"mode=", "'mode='"},
        {"mode", "'mode'"},
        {"mode=Multi", "mode=multi or mode=single"},
        {"initrd_size=", "initrd_size=<bytes>"},
        {"initrd_size=12k", "'initrd_size=12k'"},
        {"initrd_size=0x", "'initrd_size=0x'"},
        {"initrd_size=-1", "'initrd_size=-1'"},
        {"initrd_size=18446744073709551616", "initrd_size="},
        {"initrd_size=0x10000000000000000", "initrd_size="},
        {"timeslice_ms=0", "timeslice_ms=1..1000"},
        {"timeslice_ms=1001", "'timeslice_ms=1001'"},
        {"timeslice_ms=ten", "timeslice_ms=1..1000"},
        {"gdb=2", "expected gdb=0 or gdb=1"},
        {"gdb=yes", "'gdb=yes'"},
        {"gdb", "'gdb'"},
        {"debug=2", "expected debug=0 or debug=1"},
        {"debug=", "'debug='"},
        {"debug", "'debug'"},
    };
    for (const Case& c : cases) {
        const Parsed p = parse(c.args);
        EXPECT_FALSE(p.ok) << c.args;
        EXPECT_NE(p.err.find(c.expect_in_err), std::string::npos) << c.args << " -> " << p.err;
    }
}

TEST(Options, UnknownOptionIsAnError)
{
    const Parsed p = parse("mode=single console=ttyAMA0");
    EXPECT_FALSE(p.ok);
    EXPECT_NE(p.err.find("'console=ttyAMA0'"), std::string::npos) << p.err;
    EXPECT_NE(p.err.find("unknown option"), std::string::npos) << p.err;
}

TEST(Options, ErrorAfterGoodOptionsStillFails)
{
    EXPECT_FALSE(parse("mode=single gdb=1 timeslice_ms=5000 -- x").ok);
}

TEST(Options, GuestCmdlineLimit)
{
    std::string max(Options::kGuestCmdlineMax - 1, 'a');
    Parsed p = parse(("-- " + max).c_str());
    ASSERT_TRUE(p.ok) << p.err;
    EXPECT_EQ(std::string(p.opt.guest_cmdline), max);

    p = parse(("-- " + max + "b").c_str());
    EXPECT_FALSE(p.ok);
    EXPECT_NE(p.err.find("too long"), std::string::npos) << p.err;
}

TEST(Options, ErrorBufferTruncatedAndOptional)
{
    Options o;
    char small[12];
    EXPECT_FALSE(parse_options("mode=fast", o, small, sizeof(small)));
    EXPECT_STREQ(small, "bad option ");
    EXPECT_FALSE(parse_options("mode=fast", o, nullptr, 0));
}

TEST(Options, ReparseResetsToDefaults)
{
    Options o;
    char err[64];
    ASSERT_TRUE(parse_options("mode=single gdb=1 -- a", o, err, sizeof(err)));
    ASSERT_TRUE(parse_options("", o, err, sizeof(err)));
    EXPECT_EQ(o.mode, Mode::Multi);
    EXPECT_FALSE(o.gdb);
    EXPECT_STREQ(o.guest_cmdline, "");
}

TEST(Options, ModeNames)
{
    EXPECT_STREQ(mode_name(Mode::Multi), "multi");
    EXPECT_STREQ(mode_name(Mode::Single), "single");
}

} // namespace
