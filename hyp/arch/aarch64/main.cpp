// Boot: the primary pCPU sets up the machine and its VMs, starts the other
// pCPUs, releases them, and every pCPU enters its run loop.
//
//   primary:   (boot.S: EL2 tables, MMU on) -> console -> DTB -> options
//              -> GIC -> VMs (machine description) -> debug, trace
//              -> CPU_ON x3 -> wait for secondaries -> release -> run_vcpus()
//   secondary: (boot.S: MMU on) -> own redistributor + CPU interface
//              -> online -> park in WFI until released -> run_vcpus()
#include <libfdt.h>

#include "config.h"
#include "core/format.h"
#include "core/machine_desc.h"
#include <cpu.h>
#include "debug.h"
#include "fdt/host_platform.h"
#include "firmware.h"
#include "gic.h"
#include "log.h"
#include "consoles.h"
#include "mmu.h"
#include "serial_ports.h"
#include "run.h"
#include "sysreg.h"
#include "trace_port.h"
#include "uart.h"
#include "vm/pcpu.h"
#include "vm/console.h"
#include "vm/placement.h"
#include "vm/vm.h"
#include "vm/vm_disk.h"
#include "vm/vm_setup.h"
#include "cpu_features_arch.h"
#include "core/cpu_features.h"
#include "pmu.h"

extern "C" char hyp_stacks[], __hyp_start[], __hyp_end[];
extern "C" void secondary_entry();


namespace {
constexpr u64 kStackSize = 16 * KiB;  // boot.S: STACK_SHIFT
constexpr u64 kQemuDtb = 0x4000'0000; // QEMU puts it at the base of RAM for an ELF
constexpr u8 kIrqPriority = 0x80;

HostPlatform g_host;
u32 g_online;
bool g_release;
VmPlacement g_placement[kMaxVms];
MachineDesc g_machine;

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
    gic::enable_private(kGuestLayout.ptimer_ppi, kIrqPriority);
    gic::enable_private(kHypTimerPpi, kIrqPriority);
    if (cpufeat::g_state.d.pmu)
        gic::enable_private(kPmuPpi, kIrqPriority);
}

// Without a machine description: one VM of kMaxVcpus vCPUs in all of the
// RAM above the hypervisor, its kernel and initrd loaded there in place,
// placed by the mode's preset (docs/architecture.md, "legacy layout").
void setup_legacy()
{
    const u32 nvcpus = kMaxVcpus;
    if (g_options.mode == Mode::Multi && g_host.ncpus < nvcpus)
        fatal("multi-pCPU mode needs 4 pCPUs: run QEMU with -smp 4 (or use MODE=single)");
    if (g_host.ram_size < kHypReserved + 256 * MiB)
        fatal("guest RAM below 256 MiB: raise MEM= (QEMU -m is MEM plus 64 MiB for the hypervisor)");
    g_nvms = 1;
    placement_preset(g_options.mode, g_nvms, &nvcpus, g_host.ncpus, g_placement);
    const VmSpec spec{
        .id = 0,
        .placement = &g_placement[0],
        .ram_pa = g_host.ram_base + kHypReserved,
        .ram_size = align_down(g_host.ram_size - kHypReserved, 2 * MiB),
        .kernel_pa = 0,
        .kernel_size = 0,
        .initrd_pa = 0,
        .initrd_size = g_options.initrd_size,
        .cmdline = g_options.guest_cmdline,
        .disk = nullptr,
        .console_port = false,
    };
    char msg[200];
    if (const char* e = vm_create(g_vms[0], spec, g_host, reinterpret_cast<const void*>(kQemuDtb), msg, sizeof msg))
        fatal(e);
}

// Host memory a VM (or its pristine image) may use: RAM above the
// hypervisor's reserve.
bool in_guest_memory(u64 pa, u64 size)
{
    const u64 lo = g_host.ram_base + kHypReserved;
    const u64 hi = g_host.ram_base + g_host.ram_size;
    return size == 0 || (pa >= lo && pa <= hi && size <= hi - pa);
}

// The VMs scripts/machine.py described (core/machine_desc.h).
void setup_described(const char* text)
{
    char msg[200];
    if (!parse_machine_desc(text, kMachineDescMax, g_host.ncpus, g_machine, msg, sizeof msg))
        fatal(msg);
    g_nvms = g_machine.nvms;
    for (u32 i = 0; i < g_machine.nvms; i++) {
        const VmDesc& d = g_machine.vm[i];
        if (!in_guest_memory(d.ram_pa, d.ram_size) || !in_guest_memory(d.kernel_pa, d.kernel_size) ||
            !in_guest_memory(d.initrd_pa, d.initrd_size)) {
            fmt_snprintf(msg, sizeof msg,
                         "VM %u's RAM or images lie outside host RAM above the hypervisor: QEMU's -m must "
                         "match the machine description (scripts/machine.py computes both)", i);
            fatal(msg);
        }
        g_placement[i].nvcpus = d.vcpus;
        for (u32 c = 0; c < d.vcpus; c++)
            g_placement[i].pcpu[c] = d.pcpu[c];
        const VmSpec spec{
            .id = i,
            .placement = &g_placement[i],
            .ram_pa = d.ram_pa,
            .ram_size = d.ram_size,
            .kernel_pa = d.kernel_pa,
            .kernel_size = d.kernel_size,
            .initrd_pa = d.initrd_pa,
            .initrd_size = d.initrd_size,
            .cmdline = d.bootargs,
            .disk = d.disk[0] ? d.disk : "",
            .console_port = d.console_port,
        };
        if (const char* e =
                vm_create(g_vms[i], spec, g_host, reinterpret_cast<const void*>(kQemuDtb), msg, sizeof msg))
            fatal(e);
    }
}

void setup_vms()
{
    if (const char* e = vm_disks_probe(g_host))
        fatal(e);
    if (const char* e = serial_ports_probe(g_host))
        fatal(e);
    const char* text = reinterpret_cast<const char*>(kMachineDescPa);
    if (is_machine_desc(text, kMachineDescMax))
        setup_described(text);
    else
        setup_legacy();
}

void print_vm(const Vm& vm)
{
    char pcpus[32];
    int n = 0;
    for (u32 i = 0; i < vm.nvcpus; i++)
        n += fmt_snprintf(pcpus + n, sizeof pcpus - static_cast<usize>(n), i ? " %u" : "%u", vm.vcpus[i].pcpu);
    char who[16] = "guest";
    if (g_nvms > 1)
        fmt_snprintf(who, sizeof who, "VM %u", vm.id);
    hyp_log("%s: %u vCPUs on pCPUs %s, RAM IPA 0x%09llx-0x%09llx (%llu MiB) -> PA 0x%09llx", who, vm.nvcpus, pcpus,
            ull(vm.ram_ipa), ull(vm.ram_ipa + vm.ram_size), ull(vm.ram_size / MiB), ull(vm.ram_pa));
    hyp_log("  kernel IPA 0x%09llx, DTB IPA 0x%09llx, initrd IPA 0x%09llx (%llu bytes)%s",
            ull(vm.ram_ipa + kGuestLayout.kernel_offset), ull(vm.ram_ipa + kGuestLayout.dtb_offset),
            ull(vm.ram_ipa + kGuestLayout.initrd_offset), ull(vm.initrd_size),
            vm.kernel_size ? ", from pristine copies (reset reloads them)" : "");
    hyp_log("  emulated: GICD 0x%llx, GICR 0x%llx (%u frames), PL011 0x%llx (INTID %u)%s; nothing else mapped",
            ull(kGuestLayout.gicd_ipa), ull(kGuestLayout.gicr_ipa), vm.nvcpus, ull(kGuestLayout.uart_ipa),
            kGuestLayout.uart_spi, vm.disk ? ", virtio-blk 0xa000000" : "");
    if (vm.console_port)
        hyp_log("  console: virtio-serial port hyp.vm%u, TCP 127.0.0.1:%u (make console VM=%u)", vm.id,
                kConsolePortBase + vm.id, vm.id);
    else
        hyp_log("  console: this terminal%s", g_nvms > 1 ? " (Ctrl-] 0-3 switches between VMs)" : "");
    hyp_log("  bootargs: %s", vm.cmdline);
}

void print_banner()
{
    hyp_log("==== hyp: AArch64 type-1 hypervisor at EL2 ====");
    if (g_nvms > 1)
        hyp_log("mode: %s-pCPU preset, %u VMs (placement below)", mode_name(g_options.mode), g_nvms);
    else if (g_options.mode == Mode::Multi)
        hyp_log("mode: multi-pCPU (vCPU n pinned on pCPU n)");
    else
        hyp_log("mode: single-pCPU (all vCPUs time-shared on pCPU 0, %u ms slices)", g_options.timeslice_ms);
    hyp_log("pCPUs: %u found (MIDR 0x%llx), timer %llu Hz, %u ms slices where vCPUs share a pCPU", g_host.ncpus,
            ull(read_midr_el1()), ull(read_cntfrq_el0()), g_options.timeslice_ms);
    hyp_log("host RAM   0x%09llx-0x%09llx (%llu MiB)", ull(g_host.ram_base), ull(g_host.ram_base + g_host.ram_size),
            ull(g_host.ram_size / MiB));
    hyp_log("  QEMU DTB 0x%09llx, hypervisor 0x%09llx-0x%09llx, reserved up to 0x%09llx", ull(kQemuDtb),
            ull(reinterpret_cast<u64>(__hyp_start)), ull(reinterpret_cast<u64>(__hyp_end)),
            ull(g_host.ram_base + kHypReserved));
    for (u32 m = 0; m < g_nvms; m++)
        print_vm(g_vms[m]);
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
    for (u32 i = 0; i < g_host.ncpus && i < kMaxPcpus; i++)
        g_pcpus[i].mpidr = g_host.cpu_mpidr[i];
    g_host_uart_intid = g_host.uart_intid;
    char msg[160];
    if (!parse_options(g_host.bootargs ? g_host.bootargs : "", g_options, msg, sizeof msg))
        fatal(msg);
    cpu_features_init(); // before the guest device trees (the PMU node) and any vCPU
    gic::init_distributor(g_host.gicd_base);
    init_cpu_interrupts();
    setup_vms();
    print_banner();
    if (const char* e = debug_setup(g_host))
        fatal(e);
    if (const char* e = trace_setup(g_host))
        fatal(e);
    gic::route_spi(g_host.uart_intid, read_mpidr_el1(), kIrqPriority);
    uart_enable_rx_irq();
    start_secondaries();
    release_secondaries();
    run_vcpus();
}

[[noreturn]] void boot_secondary()
{
    this_pcpu().mpidr = read_mpidr_el1();
    init_cpu_interrupts();
    __atomic_store_n(&this_pcpu().online, true, __ATOMIC_RELEASE);
    __atomic_fetch_add(&g_online, 1, __ATOMIC_ACQ_REL);
    while (!__atomic_load_n(&g_release, __ATOMIC_ACQUIRE)) {
        cpu_wait_interrupt();
        handle_physical_irqs();
    }
    run_vcpus();
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
    boot_secondary();
}
