// Boot: the primary pCPU sets up the machine and the VM, starts the other
// pCPUs, releases them, and every pCPU enters its run loop.
//
//   primary:   (boot.S: EL2 tables, MMU on) -> console -> DTB -> options
//              -> GIC -> VM -> CPU_ON x3 -> wait for secondaries -> release
//              -> run_vcpus(0)
//   secondary: (boot.S: MMU on) -> own redistributor + CPU interface
//              -> online -> park in WFI until released -> run_vcpus(n)
#include <libfdt.h>

#include "block.h"
#include "config.h"
#include <cpu.h>
#include "debug.h"
#include "fdt/guest_dtb.h"
#include "fdt/host_platform.h"
#include "firmware.h"
#include "gic.h"
#include "log.h"
#include "mmu.h"
#include "pcpu.h"
#include "sysreg.h"
#include "uart.h"
#include "vm.h"

extern "C" char hyp_stacks[], __hyp_start[], __hyp_end[];
extern "C" void secondary_entry();

vgic::Notifier* vm_notifier();
psci::Host* vm_psci_host();

Pcpu g_pcpus[kMaxPcpus];

namespace {
constexpr u64 kStackSize = 16 * KiB;  // boot.S: STACK_SHIFT
constexpr u64 kQemuDtb = 0x4000'0000; // QEMU puts it at the base of RAM for an ELF
constexpr u8 kIrqPriority = 0x80;

HostPlatform g_host;
u32 g_online;
bool g_release;

[[noreturn]] void fatal(const char* msg)
{
    hyp_log("FATAL: %s", msg);
    firmware::system_off();
}

unsigned long long ull(u64 v) { return static_cast<unsigned long long>(v); }

void init_cpu_interrupts()
{
    gic::init_cpu(g_host.gicr_base, g_host.gicr_size, read_mpidr_el1());
    gic::enable_private(gic::kKickSgi, kIrqPriority);
    gic::enable_private(kGuestLayout.maintenance_ppi, kIrqPriority);
    gic::enable_private(kGuestLayout.vtimer_ppi, kIrqPriority);
    gic::enable_private(kHypTimerPpi, kIrqPriority);
}

void check_guest_payload()
{
    const u8* image = reinterpret_cast<const u8*>(g_vm.ipa_to_pa(g_vm.ram_ipa + kGuestLayout.kernel_offset));
    // arm64 Image header: magic "ARM\x64" at offset 56, image_size at 16.
    if (!(image[56] == 'A' && image[57] == 'R' && image[58] == 'M' && image[59] == 0x64)) {
        hyp_log("FATAL: no arm64 kernel Image at PA 0x%llx: load one with "
                "-device loader,file=Image,addr=0x%llx,force-raw=on (make run does)",
                ull(reinterpret_cast<u64>(image)), ull(reinterpret_cast<u64>(image)));
        firmware::system_off();
    }
    u64 image_size = 0;
    for (int i = 7; i >= 0; i--)
        image_size = (image_size << 8) | image[16 + i];
    if (kGuestLayout.kernel_offset + image_size > kGuestLayout.dtb_offset)
        fatal("kernel image_size overlaps the guest DTB slot; move dtb_offset in config.h");
    if (kGuestLayout.initrd_offset + g_vm.initrd_size > g_vm.ram_size)
        fatal("initrd does not fit in guest RAM: raise MEM=");
}

void build_guest_dtb()
{
    u64 mpidr[kMaxVcpus];
    for (u32 i = 0; i < g_vm.nvcpus; i++)
        mpidr[i] = g_vm.vcpus[i].mpidr;
    const u64 initrd = g_vm.ram_ipa + kGuestLayout.initrd_offset;
    const GuestDtbConfig cfg{
        .ram_base = g_vm.ram_ipa,
        .ram_size = g_vm.ram_size,
        .nvcpus = g_vm.nvcpus,
        .vcpu_mpidr = mpidr,
        .gicd_base = kGuestLayout.gicd_ipa,
        .gicd_size = kGuestLayout.gicd_size,
        .gicr_base = kGuestLayout.gicr_ipa,
        .gicr_size = kGuestLayout.gicr_stride * g_vm.nvcpus,
        .uart_base = kGuestLayout.uart_ipa,
        .initrd_start = g_vm.initrd_size ? initrd : 0,
        .initrd_end = g_vm.initrd_size ? initrd + g_vm.initrd_size : 0,
        .bootargs = g_vm.opts.guest_cmdline,
        .virtio_base = kGuestLayout.virtio_ipa,
        .virtio_size = block_present() ? kGuestLayout.virtio_size : 0,
        .virtio_spi = kGuestLayout.virtio_spi,
    };
    void* out = reinterpret_cast<void*>(g_vm.ipa_to_pa(g_vm.ram_ipa + kGuestLayout.dtb_offset));
    const int rc = build_guest_dtb(reinterpret_cast<const void*>(kQemuDtb), out, kGuestLayout.dtb_max_size, cfg);
    if (rc != 0) {
        hyp_log("FATAL: building the guest device tree failed: %s", guest_dtb_strerror(rc));
        firmware::system_off();
    }
}

void setup_vm()
{
    g_vm.nvcpus = kMaxVcpus;
    if (g_vm.opts.mode == Mode::Multi && g_host.ncpus < g_vm.nvcpus)
        fatal("multi-pCPU mode needs 4 pCPUs: run QEMU with -smp 4 (or use MODE=single)");
    g_vm.ram_ipa = kGuestLayout.ram_ipa;
    g_vm.ram_pa = g_host.ram_base + kHypReserved;
    g_vm.ram_size = align_down(g_host.ram_size - kHypReserved, 2 * MiB);
    if (g_host.ram_size < kHypReserved + 256 * MiB)
        fatal("guest RAM below 256 MiB: raise MEM= (QEMU -m is MEM plus 64 MiB for the hypervisor)");
    g_vm.initrd_size = g_vm.opts.initrd_size;
    g_vm.host_uart_intid = g_host.uart_intid;
    for (u32 i = 0; i < g_host.ncpus && i < kMaxPcpus; i++)
        g_vm.pcpu_mpidr[i] = g_host.cpu_mpidr[i];

    u64 mpidr[kMaxVcpus];
    for (u32 i = 0; i < g_vm.nvcpus; i++) {
        Vcpu& v = g_vm.vcpus[i];
        v.id = i;
        v.pcpu = vcpu_home_pcpu(i);
        v.mpidr = i; // Aff0 = index: a flat cluster, like QEMU's virt board
        mpidr[i] = v.mpidr;
    }
    check_guest_payload();
    stage2_build(g_vm.ram_ipa, g_vm.ram_pa, g_vm.ram_size);
    g_vm.vgic.init(g_vm.nvcpus, kGuestLayout.nr_spis, mpidr, vm_notifier());
    g_vm.psci.init(g_vm.nvcpus, mpidr, vm_psci_host());
    g_vm.psci.reset();
    const bool ok = g_vm.bus.add(kGuestLayout.gicd_ipa, kGuestLayout.gicd_size, g_vm.vgic.distributor()) &&
                    g_vm.bus.add(kGuestLayout.gicr_ipa, kGuestLayout.gicr_stride * g_vm.nvcpus,
                                 g_vm.vgic.redistributors()) &&
                    g_vm.bus.add(kGuestLayout.uart_ipa, kGuestLayout.uart_size, g_uart);
    HYP_ASSERT(ok);
    block_setup(g_host);
    build_guest_dtb();
    // Guest virtual time starts at zero, the same on every vCPU.
    g_vm.cntvoff = read_cntpct_el0();
}

void print_banner()
{
    hyp_log("==== hyp: AArch64 type-1 hypervisor at EL2 ====");
    if (g_vm.opts.mode == Mode::Multi)
        hyp_log("mode: multi-pCPU (vCPU n pinned on pCPU n)");
    else
        hyp_log("mode: single-pCPU (all vCPUs time-shared on pCPU 0, %u ms slices)", g_vm.opts.timeslice_ms);
    hyp_log("pCPUs: %u found (MIDR 0x%llx), timer %llu Hz", g_host.ncpus, ull(read_midr_el1()),
            ull(read_cntfrq_el0()));
    hyp_log("host RAM   0x%09llx-0x%09llx (%llu MiB)", ull(g_host.ram_base), ull(g_host.ram_base + g_host.ram_size),
            ull(g_host.ram_size / MiB));
    hyp_log("  QEMU DTB 0x%09llx, hypervisor 0x%09llx-0x%09llx, reserved up to 0x%09llx", ull(kQemuDtb),
            ull(reinterpret_cast<u64>(__hyp_start)), ull(reinterpret_cast<u64>(__hyp_end)),
            ull(g_host.ram_base + kHypReserved));
    hyp_log("guest: %u vCPUs, RAM IPA 0x%09llx-0x%09llx (%llu MiB) -> PA 0x%09llx", g_vm.nvcpus, ull(g_vm.ram_ipa),
            ull(g_vm.ram_ipa + g_vm.ram_size), ull(g_vm.ram_size / MiB), ull(g_vm.ram_pa));
    hyp_log("  kernel IPA 0x%09llx, DTB IPA 0x%09llx, initrd IPA 0x%09llx (%llu bytes)",
            ull(g_vm.ram_ipa + kGuestLayout.kernel_offset), ull(g_vm.ram_ipa + kGuestLayout.dtb_offset),
            ull(g_vm.ram_ipa + kGuestLayout.initrd_offset), ull(g_vm.initrd_size));
    hyp_log("  emulated: GICD 0x%llx, GICR 0x%llx (%u frames), PL011 0x%llx (INTID %u); nothing else mapped",
            ull(kGuestLayout.gicd_ipa), ull(kGuestLayout.gicr_ipa), g_vm.nvcpus, ull(kGuestLayout.uart_ipa),
            kGuestLayout.uart_spi);
    hyp_log("  bootargs: %s", g_vm.opts.guest_cmdline);
}

void start_secondaries()
{
    const u32 n = g_host.ncpus < kMaxPcpus ? g_host.ncpus : kMaxPcpus;
    for (u32 i = 1; i < n; i++) {
        const i64 rc = firmware::cpu_on(g_host.cpu_mpidr[i], reinterpret_cast<u64>(secondary_entry), i);
        if (rc != 0)
            hyp_log("pCPU%u: firmware CPU_ON failed (%lld)", i, static_cast<long long>(rc));
    }
    // Bounded wait: a pCPU that never comes up is reported, not waited for.
    const u64 deadline = read_cntpct_el0() + 5 * read_cntfrq_el0();
    while (__atomic_load_n(&g_online, __ATOMIC_ACQUIRE) < n - 1 && read_cntpct_el0() < deadline)
        cpu_relax();
    hyp_log("pCPUs online: %u of %u", __atomic_load_n(&g_online, __ATOMIC_ACQUIRE) + 1, n);
}

void release_secondaries()
{
    __atomic_store_n(&g_release, true, __ATOMIC_RELEASE);
    cpu_send_event();
    // Parked pCPUs sleep in WFI (WFE does not sleep under TCG), so also
    // send each one a kick SGI.
    for (u32 i = 1; i < g_host.ncpus && i < kMaxPcpus; i++)
        gic::send_sgi(gic::kKickSgi, g_host.cpu_mpidr[i]);
}

[[noreturn]] void boot_primary()
{
    const void* fdt = reinterpret_cast<const void*>(kQemuDtb);
    if (fdt_magic(fdt) != FDT_MAGIC)
        fatal("no device tree at the base of RAM: the hypervisor ELF must be linked at or above 0x40100000");
    const char* err = nullptr;
    if (!parse_host_platform(fdt, g_host, &err))
        fatal(err);
    uart_set_base(g_host.uart_base);
    this_pcpu().mpidr = read_mpidr_el1();
    char msg[160];
    if (!parse_options(g_host.bootargs ? g_host.bootargs : "", g_vm.opts, msg, sizeof msg))
        fatal(msg);
    gic::init_distributor(g_host.gicd_base);
    init_cpu_interrupts();
    setup_vm();
    print_banner();
    if (const char* e = debug_setup(g_host))
        fatal(e);
    gic::route_spi(g_host.uart_intid, read_mpidr_el1(), kIrqPriority);
    uart_enable_rx_irq();
    start_secondaries();
    release_secondaries();
    run_vcpus(0);
}

[[noreturn]] void boot_secondary(u32 idx)
{
    this_pcpu().mpidr = read_mpidr_el1();
    init_cpu_interrupts();
    this_pcpu().online = true;
    __atomic_fetch_add(&g_online, 1, __ATOMIC_ACQ_REL);
    while (!__atomic_load_n(&g_release, __ATOMIC_ACQUIRE)) {
        cpu_wait_interrupt();
        handle_physical_irqs();
    }
    run_vcpus(idx);
}
} // namespace

// Entered from boot.S with the MMU and caches on (mmu.h: boot order).
extern "C" [[noreturn]] void hyp_cpu_entry(u64 idx)
{
    Pcpu& p = g_pcpus[idx];
    p.id = static_cast<u32>(idx);
    p.stack_top = reinterpret_cast<u64>(hyp_stacks) + (idx + 1) * kStackSize;
    write_tpidr_el2(reinterpret_cast<u64>(&p));
    if (idx == 0)
        boot_primary();
    boot_secondary(static_cast<u32>(idx));
}
