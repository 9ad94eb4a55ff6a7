#include "core/machine_desc.h"

#include "core/format.h"
#include "core/token.h"

namespace {

constexpr char kMagic[] = "hyp-machine 1";
constexpr u64 kRamAlign = 2 * MiB;
constexpr u64 kMinRam = 256 * MiB;

bool ranges_overlap(u64 a, u64 an, u64 b, u64 bn) { return an && bn && a < b + bn && b < a + an; }

class Parser {
public:
    Parser(const char* text, usize len, u32 npcpus, MachineDesc& out, char* err, usize err_len)
        : p_(text), end_(text + len), npcpus_(npcpus), out_(out), err_(err), err_len_(err_len)
    {
    }

    bool run()
    {
        out_ = MachineDesc{};
        // The magic starts the text, as is_machine_desc() (which decides
        // whether there is a description at all) expects it.
        if (!is_machine_desc(p_, static_cast<usize>(end_ - p_))) {
            lineno_ = 1;
            return fail("expected the first line to be 'hyp-machine 1'");
        }
        if (!next_line() || !(line_.n == sizeof kMagic - 1 && Token{line_.s, line_.n}.equals(kMagic)))
            return fail("expected the first line to be 'hyp-machine 1'");
        while (next_line()) {
            if (!statement())
                return false;
        }
        if (in_vm_)
            return fail("the last VM has no 'end'");
        if (out_.nvms == 0)
            return fail("no VM");
        return check_machine();
    }

private:
    // Next non-empty, non-comment line into line_ (blanks trimmed).
    bool next_line()
    {
        while (p_ < end_ && *p_) {
            const char* s = p_;
            while (p_ < end_ && *p_ && *p_ != '\n')
                p_++;
            const char* e = p_;
            if (p_ < end_ && *p_ == '\n')
                p_++;
            lineno_++;
            while (s < e && is_blank(*s))
                s++;
            while (e > s && is_blank(e[-1]))
                e--;
            if (s == e || *s == '#')
                continue;
            line_ = Token{s, static_cast<usize>(e - s)};
            return true;
        }
        return false;
    }

    // Splits off the first word of rest_.
    bool word(Token& w)
    {
        while (rest_.n && is_blank(*rest_.s)) {
            rest_.s++;
            rest_.n--;
        }
        if (!rest_.n)
            return false;
        usize i = 0;
        while (i < rest_.n && !is_blank(rest_.s[i]))
            i++;
        w = Token{rest_.s, i};
        rest_.s += i;
        rest_.n -= i;
        return true;
    }

    bool number(u64& v)
    {
        Token w{};
        return word(w) && parse_u64(w, v);
    }

    bool no_more()
    {
        Token w{};
        return !word(w);
    }

    bool statement()
    {
        rest_ = line_;
        Token key{};
        word(key);
        if (key.equals("vm")) {
            u64 n = 0;
            if (in_vm_)
                return fail("'vm' inside a VM: close the previous one with 'end'");
            if (!number(n) || !no_more())
                return fail("expected 'vm <n>'");
            if (n != out_.nvms)
                return fail("VMs must be numbered 0, 1, ... in order");
            if (n >= kMaxVms)
                return fail("too many VMs (kMaxVms)");
            in_vm_ = true;
            seen_ = 0;
            vm_ = &out_.vm[out_.nvms];
            return true;
        }
        if (!in_vm_)
            return fail("expected 'vm <n>'");
        if (key.equals("end")) {
            if (!no_more())
                return fail("expected 'end' alone");
            if (!check_vm())
                return false;
            in_vm_ = false;
            out_.nvms++;
            return true;
        }
        const unsigned k = key_index(key);
        if (k == kKeys)
            return fail("unknown statement (vcpus, pcpus, ram, kernel, initrd, disk, console, bootargs, end)");
        if (seen_ & (1u << k))
            return fail("given twice");
        seen_ |= 1u << k;
        switch (k) {
        case kVcpus: {
            u64 n = 0;
            if (!number(n) || !no_more() || n < 1 || n > kMaxVcpus)
                return fail("expected 'vcpus <1..4>'");
            vm_->vcpus = static_cast<u32>(n);
            return true;
        }
        case kPcpus: {
            u32 i = 0;
            for (Token w{}; word(w); i++) {
                u64 c = 0;
                if (i == kMaxVcpus || !parse_u64(w, c) || c >= npcpus_)
                    return fail("expected 'pcpus' and one existing pCPU per vCPU");
                vm_->pcpu[i] = static_cast<u32>(c);
            }
            if (i == 0)
                return fail("expected 'pcpus' and one existing pCPU per vCPU");
            pcpus_given_ = i;
            return true;
        }
        case kRam:
            if (!number(vm_->ram_pa) || !number(vm_->ram_size) || !no_more())
                return fail("expected 'ram <host PA> <size>'");
            return true;
        case kKernel:
            if (!number(vm_->kernel_pa) || !number(vm_->kernel_size) || !no_more())
                return fail("expected 'kernel <host PA> <size>'");
            return true;
        case kInitrd:
            if (!number(vm_->initrd_pa) || !number(vm_->initrd_size) || !no_more())
                return fail("expected 'initrd <host PA> <size>'");
            return true;
        case kDisk: {
            Token w{};
            if (!word(w) || !no_more() || w.n >= VmDesc::kSerialMax)
                return fail("expected 'disk <serial>' (at most 20 characters) or 'disk none'");
            if (!w.equals("none")) {
                for (usize i = 0; i < w.n; i++)
                    vm_->disk[i] = w.s[i];
                vm_->disk[w.n] = '\0';
            }
            return true;
        }
        case kConsole: {
            Token w{};
            if (!word(w) || !no_more() || !(w.equals("uart") || w.equals("port")))
                return fail("expected 'console uart' or 'console port'");
            vm_->console_port = w.equals("port");
            return true;
        }
        case kBootargs:
            while (rest_.n && is_blank(*rest_.s)) {
                rest_.s++;
                rest_.n--;
            }
            if (rest_.n >= VmDesc::kBootargsMax)
                return fail("bootargs too long");
            for (usize i = 0; i < rest_.n; i++)
                vm_->bootargs[i] = rest_.s[i];
            vm_->bootargs[rest_.n] = '\0';
            return true;
        }
        return fail("unknown statement");
    }

    enum : unsigned { kVcpus, kPcpus, kRam, kKernel, kInitrd, kDisk, kConsole, kBootargs, kKeys };
    static unsigned key_index(Token k)
    {
        constexpr const char* kNames[kKeys] = {"vcpus", "pcpus", "ram", "kernel", "initrd", "disk", "console",
                                               "bootargs"};
        for (unsigned i = 0; i < kKeys; i++)
            if (k.equals(kNames[i]))
                return i;
        return kKeys;
    }

    bool check_vm()
    {
        constexpr u32 kRequired = (1u << kVcpus) | (1u << kPcpus) | (1u << kRam) | (1u << kKernel);
        if ((seen_ & kRequired) != kRequired)
            return fail("a VM needs vcpus, pcpus, ram and kernel");
        if (pcpus_given_ != vm_->vcpus)
            return fail("pcpus must name one pCPU per vCPU");
        if ((vm_->ram_pa | vm_->ram_size) % kRamAlign || vm_->ram_size < kMinRam ||
            vm_->ram_pa + vm_->ram_size < vm_->ram_pa)
            return fail("ram must be 2 MiB aligned and at least 256 MiB");
        if (vm_->kernel_size == 0 || vm_->kernel_pa + vm_->kernel_size < vm_->kernel_pa ||
            vm_->initrd_pa + vm_->initrd_size < vm_->initrd_pa)
            return fail("bad kernel or initrd range");
        if (ranges_overlap(vm_->kernel_pa, vm_->kernel_size, vm_->ram_pa, vm_->ram_size) ||
            ranges_overlap(vm_->initrd_pa, vm_->initrd_size, vm_->ram_pa, vm_->ram_size))
            return fail("a pristine image lies inside the VM's own RAM");
        return true;
    }

    // Across VMs: RAM and images never shared.
    bool check_machine()
    {
        for (u32 a = 0; a < out_.nvms; a++) {
            for (u32 b = a + 1; b < out_.nvms; b++) {
                const VmDesc& x = out_.vm[a];
                const VmDesc& y = out_.vm[b];
                if (ranges_overlap(x.ram_pa, x.ram_size, y.ram_pa, y.ram_size))
                    return fail_machine("two VMs' RAM overlap", a, b);
                if (ranges_overlap(x.kernel_pa, x.kernel_size, y.ram_pa, y.ram_size) ||
                    ranges_overlap(x.initrd_pa, x.initrd_size, y.ram_pa, y.ram_size) ||
                    ranges_overlap(y.kernel_pa, y.kernel_size, x.ram_pa, x.ram_size) ||
                    ranges_overlap(y.initrd_pa, y.initrd_size, x.ram_pa, x.ram_size))
                    return fail_machine("a VM's pristine image lies in another VM's RAM", a, b);
                if (x.disk[0] && Token{x.disk, strlen_(x.disk)}.equals(y.disk))
                    return fail_machine("two VMs name the same disk", a, b);
            }
        }
        return true;
    }

    static usize strlen_(const char* s)
    {
        usize n = 0;
        while (s[n])
            n++;
        return n;
    }

    bool fail(const char* what)
    {
        if (err_len_)
            fmt_snprintf(err_, err_len_, "machine description line %u: %s", lineno_, what);
        return false;
    }

    bool fail_machine(const char* what, u32 a, u32 b)
    {
        if (err_len_)
            fmt_snprintf(err_, err_len_, "machine description: %s (VM %u and VM %u)", what, a, b);
        return false;
    }

    const char* p_;
    const char* end_;
    u32 npcpus_;
    MachineDesc& out_;
    char* err_;
    usize err_len_;
    unsigned lineno_ = 0;
    Token line_{};
    Token rest_{};
    bool in_vm_ = false;
    u32 seen_ = 0;
    u32 pcpus_given_ = 0;
    VmDesc* vm_ = nullptr;
};

} // namespace

bool is_machine_desc(const char* text, usize len)
{
    const usize n = sizeof kMagic - 1;
    return len >= n && Token{text, n}.equals(kMagic);
}

bool parse_machine_desc(const char* text, usize len, u32 npcpus, MachineDesc& out, char* err, usize err_len)
{
    if (err_len)
        err[0] = '\0';
    Parser p(text, len, npcpus, out, err, err_len);
    return p.run();
}
