// A machine on the fake architecture: VMs whose vCPUs are placed on fake
// pCPUs, a fake clock, and helpers that act as the guest (IPIs, WFI, EOIs) or
// as the hardware (list registers the guest changed, interrupts taken).
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <new>
#include <vector>

#include "fake_hw.h"
#include "sysreg.h"
#include "trace/trace.h"
#include "trap.h"
#include "vgic/regs.h"
#include "vm/pcpu.h"
#include "vm/sched.h"
#include "vm/vm.h"

class ArchTest : public ::testing::Test {
protected:
    static constexpr u64 kRamIpa = 0x4000'0000;
    static constexpr u64 kRamSize = 2 * 1024 * 1024;

    void SetUp() override
    {
        fake::reset_cpus();
        fake::reset_hw();
        fake::set_counter(fake::ms(1000));
        for (Vm& vm : g_vms) {
            std::destroy_at(&vm);
            new (&vm) Vm();
        }
        g_nvms = 0;
        for (u32 p = 0; p < kMaxPcpus; p++) {
            g_pcpus[p] = Pcpu{};
            g_pcpus[p].id = p;
            g_pcpus[p].mpidr = p;
            g_pcpus[p].stack_top = 0x1000 * (p + 1);
        }
        g_options = Options{};
        trace::g_events = 0;
        as_pcpu(0);
    }

    // A VM whose vCPU i runs on pcpus[i], with a Linux-like vGIC set-up:
    // group 1 and enabled, default priority 0xa0, distributor on.
    Vm& add_vm(const std::vector<u32>& pcpus)
    {
        Vm& vm = g_vms[g_nvms];
        vm.id = g_nvms++;
        vm.nvcpus = static_cast<u32>(pcpus.size());
        vm.ram_ipa = kRamIpa;
        vm.ram_size = kRamSize;
        ram_.push_back(std::make_unique<u8[]>(kRamSize));
        vm.ram_pa = reinterpret_cast<u64>(ram_.back().get());
        vm.uart_irq.vm = &vm;
        vm.console.vm = &vm;
        u64 mpidr[kMaxVcpus] = {};
        for (u32 i = 0; i < vm.nvcpus; i++) {
            Vcpu& v = vm.vcpus[i];
            v.vm = &vm;
            v.id = i;
            v.pcpu = pcpus[i];
            v.mpidr = i;
            v.lrs.num = 4;
            mpidr[i] = i;
        }
        vm.s2.vttbr = u64{vm.id + 1} << 48;
        vm.vgic.init(vm.nvcpus, 96, mpidr, &vm);
        vm.psci.init(vm.nvcpus, mpidr, &vm);
        vm.psci.reset();
        vm.bus.add(0x0800'0000, 0x1'0000, vm.vgic.distributor());
        vm.bus.add(0x080a'0000, 0x2'0000 * vm.nvcpus, vm.vgic.redistributors());
        vm.bus.add(0x0900'0000, 0x1000, vm.uart);
        gicd(vm, vgic::off(vgic::Gicd::Ctlr), vgic::kCtlrEnableGrp1);
        for (u32 w = 1; w < 4; w++) {
            gicd(vm, vgic::off(vgic::Gicd::Igroupr) + 4 * w, 0xffff'ffff);
            gicd(vm, vgic::off(vgic::Gicd::Isenabler) + 4 * w, 0xffff'ffff);
        }
        return vm;
    }

    // pCPU p enters its run loop: this thread acts as p from now on.
    Pcpu& run_pcpu(u32 p)
    {
        as_pcpu(p);
        sched_init(g_pcpus[p]);
        return g_pcpus[p];
    }
    void as_pcpu(u32 p)
    {
        fake::use_cpu(p);
        write_tpidr_el2(reinterpret_cast<u64>(&g_pcpus[p]));
    }

    // Every vCPU of `vm` placed on p starts as if CPU_ON'd, runnable at
    // 0x1000, and enables its SGIs and PPIs in group 1 as Linux does.
    void start_all(Pcpu& p, Vm& vm)
    {
        for (u32 i = 0; i < vm.nvcpus; i++) {
            if (vm.vcpus[i].pcpu != p.id)
                continue;
            vcpu_start(p, vm.vcpus[i], 0x1000, 0);
            gicr_sgi(vm, i, vgic::off(vgic::GicrSgi::Igroupr0), 0xffff'ffff);
            gicr_sgi(vm, i, vgic::off(vgic::GicrSgi::Isenabler0), 0xffff'ffff);
        }
    }

    u64 mmio(MmioDevice& d, u64 o, u64 v, u8 width, bool write)
    {
        MmioAccess a{.addr = o, .width = width, .write = write, .reg = 0, .sign_extend = false, .sf = true, .data = v};
        d.access(0, o, a);
        return a.data;
    }
    void gicd(Vm& vm, u64 o, u64 v) { mmio(vm.vgic.distributor(), o, v, 4, true); }
    void gicr_sgi(Vm& vm, u32 v, u64 o, u64 val)
    {
        mmio(vm.vgic.redistributors(), v * vgic::kGicrStride + vgic::kGicrSgiFrame + o, val, 4, true);
    }

    // ESR_EL2 of a trapped MSR/MRS (EC 0x18) of op0:op1:CRn:CRm:op2 with Xt.
    static u64 sysreg_esr(u32 op0, u32 op1, u32 crn, u32 crm, u32 op2, u32 rt, bool read)
    {
        return u64{0x18} << 26 | u64{1} << 25 | u64{op0} << 20 | u64{op2} << 17 | u64{op1} << 14 | u64{crn} << 10 |
               u64{rt} << 5 | u64{crm} << 1 | (read ? 1 : 0);
    }

    // The guest on `from` (loaded on this pCPU) writes ICC_SGI1R_EL1 for SGI
    // `intid` to vCPU `to`: the trap the hypervisor takes for it.
    void ipi(Vcpu& from, Vcpu& to, u32 intid = 1)
    {
        from.regs.x[5] = u64{intid} << 24 | (1u << to.mpidr);
        handle_sync_exit(from, sysreg_esr(3, 0, 12, 11, 5, 5, false));
    }

    // The exit path's vGIC work around an exit of the loaded vCPU, with its
    // list registers as the guest left them (run.cpp's handle_guest_exit and
    // prepare_entry, without the hardware).
    void exit_and_enter(Pcpu& p)
    {
        Vcpu& v = *p.vcpu;
        v.vm->vgic.fold(v.id, v.lrs);
    }
    Vcpu* pick(Pcpu& p)
    {
        Vcpu* v = sched_pick(p);
        if (v)
            v->vm->vgic.flush(v->id, v->lrs);
        return v;
    }
    // The loaded vCPU's guest acknowledges and deactivates every interrupt
    // in its list registers (Linux's handler with EOImode 0).
    void guest_handles_all(Vcpu& v)
    {
        for (unsigned i = 0; i < v.lrs.num; i++)
            v.lrs.lr[i] &= ~(u64{3} << 62);
    }

private:
    std::vector<std::unique_ptr<u8[]>> ram_;
};
