#include "vm/vm_setup.h"

#include "config.h"
#include "core/format.h"
#include "core/cpu_features.h"
#include "fdt/guest_dtb.h"
#include "log.h"
#include "stage2.h"
#include "vm/arch.h"
#include "vm/console.h"
#include "vm/vm.h"
#include "vm/vm_disk.h"

namespace {

unsigned long long ull(u64 v) { return static_cast<unsigned long long>(v); }

// Each VM's device tree as built at boot, packed: restored by a reset,
// since libfdt (FP/SIMD registers) can only run before any guest does.
constexpr usize kDtbPristineMax = 64 * KiB;
alignas(8) u8 g_dtb[kMaxVms][kDtbPristineMax];

void copy(u64 dst_pa, u64 src_pa, u64 n)
{
    u8* d = reinterpret_cast<u8*>(dst_pa);
    const u8* s = reinterpret_cast<const u8*>(src_pa);
    for (u64 i = 0; i < n; i++)
        d[i] = s[i];
}

u8* dtb_in_ram(const Vm& vm) { return reinterpret_cast<u8*>(vm.ipa_to_pa(vm.ram_ipa + kGuestLayout.dtb_offset)); }

// arm64 Image header: magic "ARM\x64" at offset 56, image_size at 16.
const char* check_payload(const Vm& vm, char* msg, usize msg_len)
{
    const u8* image = reinterpret_cast<const u8*>(vm.ipa_to_pa(vm.ram_ipa + kGuestLayout.kernel_offset));
    if (!(image[56] == 'A' && image[57] == 'R' && image[58] == 'M' && image[59] == 0x64)) {
        fmt_snprintf(msg, msg_len,
                     "no arm64 kernel Image at PA 0x%llx: load one with "
                     "-device loader,file=Image,addr=0x%llx,force-raw=on (make run does)",
                     ull(reinterpret_cast<u64>(image)), ull(reinterpret_cast<u64>(image)));
        return msg;
    }
    u64 image_size = 0;
    for (int i = 7; i >= 0; i--)
        image_size = (image_size << 8) | image[16 + i];
    if (kGuestLayout.kernel_offset + image_size > kGuestLayout.dtb_offset)
        return "kernel image_size overlaps the guest DTB slot; move dtb_offset in config.h";
    if (kGuestLayout.initrd_offset + vm.initrd_size > vm.ram_size)
        return "initrd does not fit in guest RAM: raise MEM=";
    return nullptr;
}

const char* build_dtb(const Vm& vm, const void* host_fdt, char* msg, usize msg_len)
{
    u64 mpidr[kMaxVcpus];
    for (u32 i = 0; i < vm.nvcpus; i++)
        mpidr[i] = vm.vcpus[i].mpidr;
    const u64 initrd = vm.ram_ipa + kGuestLayout.initrd_offset;
    const GuestDtbConfig cfg{
        .ram_base = vm.ram_ipa,
        .ram_size = vm.ram_size,
        .nvcpus = vm.nvcpus,
        .vcpu_mpidr = mpidr,
        .gicd_base = kGuestLayout.gicd_ipa,
        .gicd_size = kGuestLayout.gicd_size,
        .gicr_base = kGuestLayout.gicr_ipa,
        .gicr_size = kGuestLayout.gicr_stride * vm.nvcpus,
        .uart_base = kGuestLayout.uart_ipa,
        .initrd_start = vm.initrd_size ? initrd : 0,
        .initrd_end = vm.initrd_size ? initrd + vm.initrd_size : 0,
        .bootargs = vm.cmdline,
        .virtio_base = kGuestLayout.virtio_ipa,
        .virtio_size = vm.disk ? kGuestLayout.virtio_size : 0,
        .virtio_spi = kGuestLayout.virtio_spi,
        .pmu = cpufeat::g_state.d.pmu,
    };
    const int rc = build_guest_dtb(host_fdt, dtb_in_ram(vm), kGuestLayout.dtb_max_size, cfg);
    if (rc != 0) {
        fmt_snprintf(msg, msg_len, "building the guest device tree failed: %s", guest_dtb_strerror(rc));
        return msg;
    }
    // The packed size is the header's totalsize (big-endian at offset 4).
    const u8* h = dtb_in_ram(vm);
    const u64 size = u64{h[4]} << 24 | u64{h[5]} << 16 | u64{h[6]} << 8 | h[7];
    if (size > kDtbPristineMax)
        return "the guest device tree is larger than its pristine copy may be (kDtbPristineMax)";
    copy(reinterpret_cast<u64>(g_dtb[vm.id]), reinterpret_cast<u64>(h), size);
    return nullptr;
}

} // namespace

bool vm_reload_images(Vm& vm)
{
    if (!vm.kernel_size)
        return false;
    const u64 base = vm.ipa_to_pa(vm.ram_ipa);
    copy(base + kGuestLayout.kernel_offset, vm.kernel_pa, vm.kernel_size);
    copy(base + kGuestLayout.initrd_offset, vm.initrd_pa, vm.initrd_size);
    const u8* h = g_dtb[vm.id];
    copy(reinterpret_cast<u64>(dtb_in_ram(vm)), reinterpret_cast<u64>(h),
         u64{h[4]} << 24 | u64{h[5]} << 16 | u64{h[6]} << 8 | h[7]);
    return true;
}

const char* vm_create(Vm& vm, const VmSpec& spec, const HostPlatform&, const void* host_fdt, char* msg,
                      usize msg_len)
{
    const VmPlacement& pl = *spec.placement;
    vm.id = spec.id;
    vm.nvcpus = pl.nvcpus;
    vm.ram_ipa = kGuestLayout.ram_ipa;
    vm.ram_pa = spec.ram_pa;
    vm.ram_size = spec.ram_size;
    vm.initrd_size = spec.initrd_size;
    vm.kernel_pa = spec.kernel_pa;
    vm.kernel_size = spec.kernel_size;
    vm.initrd_pa = spec.initrd_pa;
    vm.cmdline = spec.cmdline;
    vm.console_port = spec.console_port;
    if (vm.kernel_size) {
        if (kGuestLayout.kernel_offset + vm.kernel_size > kGuestLayout.dtb_offset)
            return "the kernel Image is larger than the space before the guest DTB slot (dtb_offset, config.h)";
        const u64 base = vm.ipa_to_pa(vm.ram_ipa);
        copy(base + kGuestLayout.kernel_offset, vm.kernel_pa, vm.kernel_size);
        if (kGuestLayout.initrd_offset + vm.initrd_size <= vm.ram_size)
            copy(base + kGuestLayout.initrd_offset, vm.initrd_pa, vm.initrd_size);
    }
    vm.uart_irq.vm = &vm;
    vm.console.vm = &vm;
    u64 mpidr[kMaxVcpus];
    for (u32 i = 0; i < vm.nvcpus; i++) {
        Vcpu& v = vm.vcpus[i];
        v.vm = &vm;
        v.id = i;
        v.pcpu = pl.pcpu[i];
        v.mpidr = i; // Aff0 = index: a flat cluster, like QEMU's virt board
        mpidr[i] = v.mpidr;
    }
    if (const char* e = check_payload(vm, msg, msg_len))
        return e;
    if (const char* e = stage2_create(vm.s2, static_cast<u16>(vm.id + 1), vm.ram_ipa, vm.ram_pa, vm.ram_size))
        return e;
    // Nothing cached for this VMID may survive from an earlier boot.
    stage2_flush_tlbs(vm.s2);
    vm.vgic.init(vm.nvcpus, kGuestLayout.nr_spis, mpidr, &vm);
    vm.psci.init(vm.nvcpus, mpidr, &vm);
    vm.psci.reset();
    if (!(vm.bus.add(kGuestLayout.gicd_ipa, kGuestLayout.gicd_size, vm.vgic.distributor()) &&
          vm.bus.add(kGuestLayout.gicr_ipa, kGuestLayout.gicr_stride * vm.nvcpus, vm.vgic.redistributors()) &&
          vm.bus.add(kGuestLayout.uart_ipa, kGuestLayout.uart_size, vm.uart)))
        return "the MMIO bus is full";
    if (const char* e = vm_disk_attach(vm, spec.disk))
        return e;
    if (const char* e = console_attach(vm))
        return e;
    if (const char* e = build_dtb(vm, host_fdt, msg, msg_len))
        return e;
    // Guest virtual time starts at zero, the same on every vCPU.
    vm.cntvoff = arch::now();
    return nullptr;
}
