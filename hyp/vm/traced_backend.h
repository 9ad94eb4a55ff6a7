// A BlockBackend that records what passes through it in the event trace
// (BlkSubmit when a request starts, BlkComplete when it finishes) and
// otherwise forwards everything to the backend behind it. It sits between
// a VM's VirtioBlk and its BlkForward (vm_disk.cpp), so the device model
// stays free of trace calls and the records carry the VM's id.
#pragma once
#include "devices/virtio_blk.h"
#include "trace/trace.h"

class TracedBackend final : public BlockBackend {
public:
    constexpr explicit TracedBackend(BlockBackend& inner) : inner_(inner) {}
    void set_vm(u8 vm) { vm_ = vm; }

    u64 sectors() const override { return inner_.sectors(); }
    u32 block_size() const override { return inner_.block_size(); }
    bool read_only() const override { return inner_.read_only(); }
    u32 max_segments() const override { return inner_.max_segments(); }
    Start start(const BlockRequest& r) override
    {
        const Start s = inner_.start(r);
        if (s != Start::Busy && trace::on(TraceType::BlkSubmit))
            trace::emit(TraceType::BlkSubmit, nullptr, static_cast<u32>(r.op) | u32{r.tag} << 16, r.sector, r.bytes,
                        vm_);
        if ((s == Start::Done || s == Start::Failed) && trace::on(TraceType::BlkComplete))
            trace::emit(TraceType::BlkComplete, nullptr, s == Start::Done ? 0 : 1, r.tag, 0, vm_);
        return s;
    }
    void kick() override { inner_.kick(); }
    void ack_interrupt() override { inner_.ack_interrupt(); }
    bool next_completion(Completion& out) override
    {
        if (!inner_.next_completion(out))
            return false;
        if (trace::on(TraceType::BlkComplete))
            trace::emit(TraceType::BlkComplete, nullptr, out.ok ? 0 : 1, out.tag, 0, vm_);
        return true;
    }
    u32 in_flight() const override { return inner_.in_flight(); }
    bool failed() override { return inner_.failed(); }
    bool overdue() override { return inner_.overdue(); }
    bool abandon() override { return inner_.abandon(); }

private:
    BlockBackend& inner_;
    u8 vm_ = kTraceNone;
};
