// The machine description the host tool writes (core/machine_desc.h).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/machine_desc.h"

namespace {

const char* kTwoVms = R"(hyp-machine 1
# written by scripts/machine.py
vm 0
vcpus 2
pcpus 0 1
ram 0x48000000 0x20000000
kernel 0x44000000 27303872
initrd 0x45c00000 1468469
disk vm0
console uart
bootargs console=ttyAMA0 foo="bar baz"
end
vm 1
vcpus 2
pcpus 2 3
ram 0x68000000 0x20000000
kernel 0x46000000 27303872
initrd 0x0 0
disk none
console port
bootargs console=ttyAMA0
end
)";

struct Parsed {
    bool ok;
    std::string err;
    std::unique_ptr<MachineDesc> m = std::make_unique<MachineDesc>();
};

// The text is given without a NUL, in a buffer of exactly its length: ASan
// catches any read past it.
Parsed parse(const std::string& text, u32 npcpus = 4)
{
    Parsed r;
    auto buf = std::make_unique<char[]>(text.size());
    text.copy(buf.get(), text.size());
    char err[160];
    r.ok = parse_machine_desc(buf.get(), text.size(), npcpus, *r.m, err, sizeof err);
    r.err = err;
    return r;
}

std::string replace(std::string s, const std::string& from, const std::string& to)
{
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
}

TEST(MachineDesc, TwoVms)
{
    const Parsed r = parse(kTwoVms);
    ASSERT_TRUE(r.ok) << r.err;
    const MachineDesc& m = *r.m;
    ASSERT_EQ(m.nvms, 2u);
    EXPECT_EQ(m.vm[0].vcpus, 2u);
    EXPECT_EQ(m.vm[0].pcpu[1], 1u);
    EXPECT_EQ(m.vm[0].ram_pa, 0x48000000u);
    EXPECT_EQ(m.vm[0].ram_size, 0x20000000u);
    EXPECT_EQ(m.vm[0].kernel_size, 27303872u);
    EXPECT_EQ(m.vm[0].initrd_pa, 0x45c00000u);
    EXPECT_STREQ(m.vm[0].disk, "vm0");
    EXPECT_FALSE(m.vm[0].console_port);
    EXPECT_STREQ(m.vm[0].bootargs, "console=ttyAMA0 foo=\"bar baz\"");
    EXPECT_EQ(m.vm[1].pcpu[0], 2u);
    EXPECT_STREQ(m.vm[1].disk, "");
    EXPECT_TRUE(m.vm[1].console_port);
    EXPECT_EQ(m.vm[1].initrd_size, 0u);
    EXPECT_TRUE(is_machine_desc(kTwoVms, 20));
    EXPECT_FALSE(is_machine_desc("mode=multi --", 13));
}

TEST(MachineDesc, ErrorsNameTheLine)
{
    struct Case {
        std::string from, to, error;
    };
    const Case cases[] = {
        {"hyp-machine 1", "hyp-machine 2", "line 1: expected the first line"},
        {"vcpus 2\npcpus 0 1", "vcpus 5\npcpus 0 1", "line 4: expected 'vcpus <1..4>'"},
        {"pcpus 0 1", "pcpus 0 4", "line 5: expected 'pcpus' and one existing pCPU"},
        {"pcpus 0 1", "pcpus 0", "line 12: pcpus must name one pCPU per vCPU"},
        {"ram 0x48000000 0x20000000", "ram 0x48100000 0x20000000", "2 MiB aligned"},
        {"ram 0x48000000 0x20000000", "ram 0x48000000 0x200000", "at least 256 MiB"},
        {"console uart", "console tty", "expected 'console uart' or 'console port'"},
        {"disk vm0", "disk vm0 vm1", "expected 'disk <serial>'"},
        {"disk vm0", "disk abcdefghijklmnopqrstu", "at most 20 characters"},
        {"disk vm0", "colour red", "line 9: unknown statement"},
        {"initrd 0x45c00000 1468469", "initrd 0x48000000 1468469", "inside the VM's own RAM"},
        {"vm 1", "vm 2", "numbered 0, 1, ... in order"},
        {"end\nvm 1", "vm 1", "'vm' inside a VM"},
        {"ram 0x68000000 0x20000000", "ram 0x50000000 0x20000000", "two VMs' RAM overlap (VM 0 and VM 1)"},
        {"disk none", "disk vm0", "two VMs name the same disk"},
        {"kernel 0x46000000 27303872", "kernel 0x48000000 100", "another VM's RAM"},
        {"vcpus 2\npcpus 2 3", "vcpus 2\nvcpus 2", "given twice"},
    };
    for (const Case& c : cases) {
        const Parsed r = parse(replace(kTwoVms, c.from, c.to));
        EXPECT_FALSE(r.ok) << c.to;
        EXPECT_NE(r.err.find(c.error), std::string::npos) << c.to << " -> " << r.err;
    }
    EXPECT_NE(parse("hyp-machine 1\n").err.find("no VM"), std::string::npos);
    EXPECT_NE(parse("hyp-machine 1\nvm 0\nvcpus 1\n").err.find("no 'end'"), std::string::npos);
    EXPECT_NE(parse("hyp-machine 1\nvm 0\nend\n").err.find("needs vcpus, pcpus, ram and kernel"),
              std::string::npos);
    // Only as many pCPUs as the machine has.
    EXPECT_NE(parse(kTwoVms, 2).err.find("line 15: expected 'pcpus'"), std::string::npos);
}

TEST(MachineDesc, StopsAtTheEndOfItsBuffer)
{
    // Cut anywhere: never a read past the end, never success without 'end'.
    const std::string t = kTwoVms;
    for (usize n = 0; n + 5 < t.size(); n += 7)
        EXPECT_FALSE(parse(t.substr(0, n)).ok) << n;
    // A NUL ends the text too (QEMU's loader leaves zeros after the file).
    std::string z = t + std::string("\0garbage", 8);
    EXPECT_TRUE(parse(z).ok);
}

// Found by fuzzing (fuzz_machine_desc): the parser skipped blank lines
// before the magic, which is_machine_desc() (what boot checks to decide
// there is a description) does not, so a text could parse and still be
// ignored. The magic must start the text.
TEST(MachineDesc, MagicStartsTheText)
{
    const std::string t = kTwoVms;
    ASSERT_TRUE(is_machine_desc(t.data(), t.size()));
    for (const char* lead : {"\n", " ", "\r\n", "# comment\n"}) {
        const Parsed r = parse(lead + t);
        EXPECT_FALSE(r.ok) << "lead " << lead;
        EXPECT_NE(r.err.find("hyp-machine 1"), std::string::npos) << r.err;
    }
}

} // namespace
