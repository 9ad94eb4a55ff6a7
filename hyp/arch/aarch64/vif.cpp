// See vif.h for why this counts register accesses.
#include "vif.h"

#include "gic.h"
#include "vm/pcpu.h"
#include "sysreg.h"
#include "vgic/regs.h"

namespace {

void write_lr(Pcpu& p, unsigned i, u64 lr)
{
    write_ich_lr(i, lr);
    p.arch.vif_lr[i] = lr;
}

} // namespace

void vif_init(Pcpu& p)
{
    for (unsigned i = 0; i < gic::num_list_regs(); i++)
        write_lr(p, i, 0);
    vif_write_hcr(p, vgic::kHcrEn);
}

void vif_save(Pcpu& p, Vcpu& v)
{
    for (unsigned i = 0; i < v.lrs.num; i++) {
        if (vgic::lr_state(p.arch.vif_lr[i]) != 0)
            p.arch.vif_lr[i] = read_ich_lr(i);
        v.lrs.lr[i] = p.arch.vif_lr[i];
    }
    v.lrs.hcr = p.arch.vif_hcr;
}

void vif_quiesce(Pcpu& p, const Vcpu& v)
{
    for (unsigned i = 0; i < v.lrs.num; i++)
        if (p.arch.vif_lr[i] != 0 && vgic::lr_state(p.arch.vif_lr[i]) == 0)
            write_lr(p, i, 0);
    if (p.arch.vif_hcr & vgic::kHcrUie)
        vif_write_hcr(p, p.arch.vif_hcr & ~vgic::kHcrUie);
}

void vif_load(Pcpu& p, const Vcpu& v)
{
    for (unsigned i = 0; i < v.lrs.num; i++)
        if (v.lrs.lr[i] != p.arch.vif_lr[i])
            write_lr(p, i, v.lrs.lr[i]);
    if (v.lrs.hcr != p.arch.vif_hcr)
        vif_write_hcr(p, v.lrs.hcr);
}

void vif_write_hcr(Pcpu& p, u64 hcr)
{
    write_ich_hcr_el2(hcr);
    p.arch.vif_hcr = hcr;
}
