// A VM's RAM as the stage-1 table walker (hyp/debug/s1_walk.h) reads it:
// only 8-byte aligned descriptors inside guest RAM, so a guest's bad table
// pointer ends a walk instead of reaching outside its memory.
#pragma once
#include "debug/s1_walk.h"
#include "vm/vm.h"

class VmTables final : public s1::TableReader {
public:
    explicit VmTables(const Vm& vm) : vm_(vm) {}
    bool read_u64(u64 ipa, u64& out) override
    {
        if ((ipa & 7) || !vm_.ipa_in_ram(ipa))
            return false;
        out = *reinterpret_cast<const volatile u64*>(vm_.ipa_to_pa(ipa));
        return true;
    }

private:
    const Vm& vm_;
};
