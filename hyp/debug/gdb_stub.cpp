// Protocol engine; see gdb_stub.h for the session model. Error replies:
// E01 malformed arguments, E02 no such thread, E14 memory not accessible
// (the address does not translate to guest RAM), E28 no breakpoint slot left.
#include "debug/gdb_stub.h"

namespace gdb {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "register images are copied as little-endian bytes");

namespace {

constexpr u8 kErrArgs = 0x01;
constexpr u8 kErrThread = 0x02;
constexpr u8 kErrMemory = 0x14;
constexpr u8 kErrNoSpace = 0x28;

constexpr usize kRegsBytes = 33 * 8 + 4 + 32 * 16 + 4 + 4;

// Length of the match of `name` at the start of the n-byte packet p: the
// length of `name` when the packet starts with it, else -1. Never reads past
// either end: packets are not NUL-terminated for this purpose (binary data).
i64 match_length(const char* p, usize n, const char* name)
{
    usize i = 0;
    for (; name[i]; i++)
        if (i >= n || p[i] != name[i])
            return -1;
    return static_cast<i64>(i);
}

bool starts_with(const char* p, usize n, const char* prefix) { return match_length(p, n, prefix) >= 0; }

// The whole packet is `s`: qC must not answer qCRC.
bool equals(const char* p, usize n, const char* s) { return match_length(p, n, s) == static_cast<i64>(n); }

// The packet is the command `name`, alone or followed by its arguments after
// `sep`: vKill;pid is vKill, vKillX is not.
bool is_command(const char* p, usize n, const char* name, char sep)
{
    const i64 m = match_length(p, n, name);
    return m >= 0 && (static_cast<usize>(m) == n || p[m] == sep);
}

// Hex number of 1..16 digits; advances p.
bool parse_hex(const char*& p, u64& v)
{
    v = 0;
    unsigned digits = 0;
    for (int d; (d = rsp::hex_digit(*p)) >= 0; p++) {
        if (++digits > 16)
            return false;
        v = (v << 4) | static_cast<u64>(d);
    }
    return digits > 0;
}

bool expect(const char*& p, char c)
{
    if (*p != c)
        return false;
    p++;
    return true;
}

// Exactly 2*n hex digits into out.
bool parse_hex_bytes(const char* p, usize digits, u8* out, usize n)
{
    if (digits != 2 * n)
        return false;
    for (usize i = 0; i < n; i++) {
        const int hi = rsp::hex_digit(p[2 * i]), lo = rsp::hex_digit(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = static_cast<u8>(hi << 4 | lo);
    }
    return true;
}

// Where register n lives in a Regs and how wide it is (0: no such register).
u8* reg_bytes(Regs& r, unsigned n, usize& size)
{
    if (n < 31) {
        size = 8;
        return reinterpret_cast<u8*>(&r.x[n]);
    }
    if (n == kRegSp || n == kRegPc) {
        size = 8;
        return reinterpret_cast<u8*>(n == kRegSp ? &r.sp : &r.pc);
    }
    if (n == kRegCpsr || n == kRegFpsr || n == kRegFpcr) {
        size = 4;
        return reinterpret_cast<u8*>(n == kRegCpsr ? &r.cpsr : n == kRegFpsr ? &r.fpsr : &r.fpcr);
    }
    if (n >= kRegV0 && n < kRegV0 + 32) {
        size = 16;
        return reinterpret_cast<u8*>(r.v[n - kRegV0]);
    }
    size = 0;
    return nullptr;
}

u8 signal_of(StopReason r) { return r == StopReason::Interrupt ? 2 /*SIGINT*/ : 5 /*SIGTRAP*/; }

void copy(u8* dst, const u8* src, usize n)
{
    for (usize i = 0; i < n; i++)
        dst[i] = src[i];
}

} // namespace

void Stub::send()
{
    out_.end();
    chan_.write(out_.data(), out_.size());
    have_reply_ = true;
}

void Stub::reply(const char* s)
{
    begin();
    out_.put_str(s);
    send();
}

void Stub::reply_error(u8 code)
{
    begin();
    out_.put('E');
    out_.put_hex_byte(code);
    send();
}

void Stub::receive(const u8* p, usize n)
{
    for (usize i = 0; i < n; i++) {
        switch (in_.feed(p[i])) {
        case rsp::RxEvent::None:
        case rsp::RxEvent::Ack: break;
        case rsp::RxEvent::Packet:
            stats_.packets++;
            on_packet(in_.payload(), in_.size());
            break;
        case rsp::RxEvent::BadChecksum:
        case rsp::RxEvent::Overlong:
            stats_.bad++;
            if (!noack_)
                chan_.write(reinterpret_cast<const u8*>("-"), 1);
            break;
        case rsp::RxEvent::Nak:
            if (!noack_ && have_reply_)
                chan_.write(out_.data(), out_.size());
            break;
        case rsp::RxEvent::Interrupt:
            stats_.interrupts++;
            if (state_ == State::Running) {
                waiting_stop_ = true;
                attach_and_stop(StopReason::Interrupt);
            }
            break;
        }
    }
}

void Stub::on_packet(const char* p, usize n)
{
    // gdb opens every connection with qSupported: a new session, which
    // starts in acknowledged mode and waits for no stop reply.
    if (is_command(p, n, "qSupported", ':')) {
        noack_ = false;
        waiting_stop_ = false;
        // Before the stop that attaching makes: which VMs it stops
        // depends on multiprocess.
        parse_features(p, n);
    }
    if (state_ == State::Stopping && deferred_) {
        // Nothing is lost: a client that waits for the answer retransmits.
        if (!noack_)
            chan_.write(reinterpret_cast<const u8*>("-"), 1);
        return;
    }
    if (!noack_)
        chan_.write(reinterpret_cast<const u8*>("+"), 1);
    if (state_ != State::Stopped) {
        // Served once everything has stopped.
        copy(reinterpret_cast<u8*>(deferred_buf_), reinterpret_cast<const u8*>(p), n);
        deferred_buf_[n] = 0;
        deferred_len_ = n;
        deferred_ = true;
        if (state_ == State::Running)
            attach_and_stop(StopReason::Attach);
        return;
    }
    dispatch(p, n);
}

void Stub::parse_features(const char* p, usize n)
{
    // gdb's own features follow "qSupported:" separated by ';'; each is
    // compared whole (a feature "noswbreak+" is not "swbreak+").
    gdb_swbreak_ = gdb_hwbreak_ = multiprocess_ = false;
    detached_ = 0;
    for (usize i = 10; i < n;) {
        usize end = i + 1;
        while (end < n && p[end] != ';')
            end++;
        if (equals(p + i + 1, end - i - 1, "swbreak+"))
            gdb_swbreak_ = true;
        if (equals(p + i + 1, end - i - 1, "hwbreak+"))
            gdb_hwbreak_ = true;
        if (equals(p + i + 1, end - i - 1, "multiprocess+"))
            multiprocess_ = true;
        i = end;
    }
}

void Stub::attach_and_stop(StopReason why)
{
    if (!attached_) {
        attached_ = true;
        target_.set_attached(true);
    }
    state_ = State::Stopping;
    target_.request_stop(why, all_processes_mask());
}

void Stub::stopped(const StopEvent& e)
{
    if (state_ == State::Stopped)
        return;
    state_ = State::Stopped;
    last_stop_ = e;
    // Ctrl-C stopped every process: report it on the thread gdb has
    // selected. (gdb also prints nothing for a stop of an inferior it still
    // thinks is being connected to: the first one, until it is resumed
    // from there.)
    if (e.reason == StopReason::Interrupt && gthread_ < num_threads() && listed(process_of(gthread_)))
        last_stop_.thread = gthread_;
    // A new connection: gdb makes the process of the first stop it sees its
    // inferior 1, so that must be process 1 (VM 0), whichever vCPU ran.
    if (e.reason == StopReason::Attach && all_processes_mask())
        last_stop_.thread = first_thread(static_cast<u32>(__builtin_ctz(all_processes_mask())));
    if (last_stop_.thread < num_threads())
        gthread_ = last_stop_.thread;
    if (detach_pending_ || !attached_) {
        detach_pending_ = false;
        detach();
        return;
    }
    if (waiting_stop_) {
        waiting_stop_ = false;
        send_stop_reply();
    }
    if (deferred_) {
        deferred_ = false;
        dispatch(deferred_buf_, deferred_len_);
    }
}

void Stub::disconnected()
{
    in_.reset();
    noack_ = false;
    waiting_stop_ = false;
    have_reply_ = false;
    deferred_ = false;
    if (!attached_)
        return;
    if (state_ == State::Stopped) {
        detach();
        return;
    }
    // Breakpoints are removed from memory only while nothing runs.
    detach_pending_ = true;
    if (state_ == State::Running)
        attach_and_stop(StopReason::Attach);
}

void Stub::detach()
{
    if (state_ == State::Stopped) {
        for (u32 m = 0; m < kMaxProcesses && m < target_.num_processes(); m++) {
            remove_all_breakpoints(m);
            if (nhw_[m]) {
                nhw_[m] = 0;
                target_.set_hw_breakpoints(m, hw_[m], 0);
            }
        }
    }
    if (attached_) {
        attached_ = false;
        target_.set_attached(false);
    }
    noack_ = false;
    waiting_stop_ = false;
    detached_ = 0;
    if (state_ == State::Stopped) {
        Action all[kMaxThreads];
        for (auto& a : all)
            a = Action::Continue;
        state_ = State::Running;
        target_.resume(all);
    }
}

// Process `m` leaves the session (gdb detached its inferior): its
// breakpoints go, it runs on, and the others stay as they are. The last one
// ends the session.
void Stub::detach_process(u32 m)
{
    detached_ |= 1u << m;
    if (all_processes_mask() == 0) {
        detach();
        return;
    }
    remove_all_breakpoints(m);
    if (nhw_[m]) {
        nhw_[m] = 0;
        target_.set_hw_breakpoints(m, hw_[m], 0);
    }
    Action a[kMaxThreads];
    const u32 first = first_thread(m), n = target_.num_threads(m);
    for (u32 t = 0; t < kMaxThreads; t++)
        a[t] = t >= first && t < first + n ? Action::Continue : Action::Stop;
    target_.resume(a);
    if (gthread_ >= first && gthread_ < first + n)
        gthread_ = first_thread(static_cast<u32>(__builtin_ctz(all_processes_mask())));
}

bool Stub::is_sw_breakpoint(u32 process, u64 va) const
{
    for (const auto& b : sw_)
        if (b.used && b.process == process && b.addr == va)
            return true;
    return false;
}

// ---- processes and threads ------------------------------------------------

u32 Stub::num_processes()
{
    u32 n = target_.num_processes();
    if (n > kMaxProcesses)
        n = kMaxProcesses;
    return multiprocess_ || n == 0 ? n : 1;
}

bool Stub::listed(u32 m) { return m < num_processes() && !(detached_ & (1u << m)); }

u32 Stub::first_thread(u32 m)
{
    u32 t = 0;
    for (u32 k = 0; k < m; k++)
        t += target_.num_threads(k);
    return t;
}

u32 Stub::num_threads()
{
    const u32 n = first_thread(num_processes());
    return n < kMaxThreads ? n : kMaxThreads;
}

u32 Stub::process_of(u32 t)
{
    u32 m = 0;
    for (u32 first = 0; m + 1 < target_.num_processes(); m++) {
        first += target_.num_threads(m);
        if (t < first)
            break;
    }
    return m;
}

u32 Stub::all_processes_mask()
{
    u32 mask = 0;
    for (u32 m = 0; m < num_processes(); m++)
        if (listed(m))
            mask |= 1u << m;
    return mask;
}

void Stub::put_thread(u32 t)
{
    const u32 m = process_of(t);
    if (multiprocess_) {
        out_.put('p');
        out_.put_hex_num(m + 1);
        out_.put('.');
    }
    out_.put_hex_num(t - first_thread(m) + 1);
}

void Stub::send_stop_reply()
{
    stats_.stops++;
    const StopEvent& e = last_stop_;
    begin();
    out_.put('T');
    out_.put_hex_byte(signal_of(e.reason));
    out_.put_str("thread:");
    put_thread(e.thread < num_threads() ? e.thread : 0);
    out_.put(';');
    if (e.reason == StopReason::SwBreak && gdb_swbreak_)
        out_.put_str("swbreak:;");
    if (e.reason == StopReason::HwBreak && gdb_hwbreak_)
        out_.put_str("hwbreak:;");
    if (e.thread < num_threads()) {
        // Expedite pc and sp so gdb need not ask for them.
        Regs r{};
        target_.read_regs(e.thread, r);
        out_.put_hex_byte(kRegPc);
        out_.put(':');
        out_.put_hex_le(r.pc, 8);
        out_.put(';');
        out_.put_hex_byte(kRegSp);
        out_.put(':');
        out_.put_hex_le(r.sp, 8);
        out_.put(';');
    }
    send();
}

void Stub::dispatch(const char* p, usize n)
{
    if (n == 0) {
        reply("");
        return;
    }
    switch (p[0]) {
    case '?':
        send_stop_reply();
        return;
    case 'q':
    case 'Q': cmd_query(p, n); return;
    case 'H': cmd_set_thread(p + 1); return;
    case 'T': {
        const char* q = p + 1;
        ThreadId id;
        u32 t;
        if (!parse_thread(q, id) || *q || id.pid < 0 || id.tid <= 0)
            reply_error(kErrArgs);
        else if (!resolve_thread(id, t))
            reply_error(kErrThread);
        else
            reply("OK");
        return;
    }
    case 'g':
        if (n == 1)
            cmd_read_regs();
        else
            reply_error(kErrArgs);
        return;
    case 'G': cmd_write_regs(p + 1, n - 1); return;
    case 'p': cmd_read_reg(p + 1); return;
    case 'P': cmd_write_reg(p + 1); return;
    case 'm': cmd_read_mem(p + 1); return;
    case 'M': cmd_write_mem(p + 1, n - 1, false); return;
    case 'X': cmd_write_mem(p + 1, n - 1, true); return;
    case 'Z':
    case 'z': cmd_breakpoint(p + 1, p[0] == 'Z'); return;
    case 'c':
    case 's': cmd_resume_legacy(p + 1, p[0] == 's', false); return;
    case 'C':
    case 'S': cmd_resume_legacy(p + 1, p[0] == 'S', true); return;
    case 'v':
        if (equals(p, n, "vCont?")) {
            reply("vCont;c;C;s;S");
        } else if (starts_with(p, n, "vCont;")) {
            cmd_vcont(p + 5);
        } else if (is_command(p, n, "vKill", ';')) {
            cmd_detach(p + 5, n - 5);
        } else {
            reply(""); // vMustReplyEmpty, vFile, vRun, vAttach...: not supported
        }
        return;
    case 'D': cmd_detach(p + 1, n - 1); return;
    case 'k':
        // No reply: gdb closes the connection. The guest is not killed; it
        // goes on without the debugger.
        detach();
        return;
    default:
        reply(""); // unknown: the empty reply means "not supported"
        return;
    }
}

void Stub::cmd_query(const char* p, usize n)
{
    if (is_command(p, n, "qSupported", ':')) {
        begin();
        out_.put_str("PacketSize=");
        out_.put_hex_num(rsp::kMaxPayload);
        out_.put_str(";qXfer:features:read+;swbreak+;hwbreak+;vContSupported+;QStartNoAckMode+");
        if (multiprocess_)
            out_.put_str(";multiprocess+");
        send();
        if (gthread_ >= num_threads())
            gthread_ = 0;
    } else if (equals(p, n, "QStartNoAckMode")) {
        reply("OK");
        noack_ = true;
    } else if (is_command(p, n, "qAttached", ':')) {
        // Attached to something that runs on: gdb detaches at exit.
        const char* q = p + 9;
        u64 pid = 1;
        if (*q == ':' && (q++, !parse_hex(q, pid) || *q))
            reply_error(kErrArgs);
        else if (pid == 0 || !listed(static_cast<u32>(pid - 1)))
            reply_error(kErrThread);
        else
            reply("1");
    } else if (equals(p, n, "qC")) {
        begin();
        out_.put_str("QC");
        put_thread(gthread_);
        send();
    } else if (equals(p, n, "qfThreadInfo")) {
        begin();
        out_.put('m');
        bool first = true;
        for (u32 t = 0; t < num_threads(); t++) {
            if (!listed(process_of(t)))
                continue;
            if (!first)
                out_.put(',');
            first = false;
            put_thread(t);
        }
        send();
    } else if (equals(p, n, "qsThreadInfo")) {
        reply("l");
    } else if (starts_with(p, n, "qThreadExtraInfo,")) {
        const char* q = p + 17;
        ThreadId id;
        u32 t;
        if (!parse_thread(q, id) || *q || id.pid < 0 || id.tid <= 0) {
            reply_error(kErrArgs);
        } else if (!resolve_thread(id, t)) {
            reply_error(kErrThread);
        } else {
            char text[96] = {};
            target_.thread_info(t, text, sizeof text - 1);
            begin();
            for (const char* s = text; *s; s++)
                out_.put_hex_byte(static_cast<u8>(*s));
            send();
        }
    } else if (starts_with(p, n, "qXfer:features:read:")) {
        cmd_xfer_features(p + 20);
    } else if (is_command(p, n, "qSymbol", ':')) {
        reply("OK"); // no symbols needed
    } else {
        reply(""); // qOffsets, qTStatus, qRcmd, ...: not supported
    }
}

void Stub::cmd_xfer_features(const char* q)
{
    constexpr char kAnnex[] = "target.xml:";
    for (usize i = 0; kAnnex[i]; i++, q++)
        if (*q != kAnnex[i]) {
            reply_error(0); // annex gdb asked for does not exist
            return;
        }
    u64 off, len;
    if (!parse_hex(q, off) || !expect(q, ',') || !parse_hex(q, len) || *q) {
        reply_error(kErrArgs);
        return;
    }
    const usize total = kTargetXmlLen;
    begin();
    if (off >= total) {
        out_.put('l');
        send();
        return;
    }
    usize chunk = total - off;
    if (chunk > len)
        chunk = len;
    if (chunk > rsp::kMaxPayload - 1)
        chunk = rsp::kMaxPayload - 1;
    out_.put(off + chunk < total ? 'm' : 'l');
    for (usize i = 0; i < chunk; i++)
        out_.put(kTargetXml[off + i]);
    send();
}

namespace {

// -1, or a hex number of at most 4 digits.
bool parse_id(const char*& p, i64& v)
{
    if (p[0] == '-' && p[1] == '1') {
        p += 2;
        v = -1;
        return true;
    }
    u64 x;
    if (!parse_hex(p, x) || x > 0xffff)
        return false;
    v = static_cast<i64>(x);
    return true;
}

} // namespace

// pPID.TID, pPID (all its threads) or TID (in the process of the current
// thread; a client without multiprocess has process 0 alone).
bool Stub::parse_thread(const char*& p, ThreadId& id)
{
    if (*p == 'p') {
        if (!multiprocess_)
            return false;
        p++;
        if (!parse_id(p, id.pid))
            return false;
        id.tid = -1;
        return *p != '.' || (p++, parse_id(p, id.tid));
    }
    if (!parse_id(p, id.tid))
        return false;
    // 0 (any) and -1 (all) are so for processes too.
    id.pid = id.tid <= 0 ? id.tid : static_cast<i64>(process_of(gthread_)) + 1;
    return true;
}

bool Stub::resolve_thread(const ThreadId& id, u32& t)
{
    u32 m = 0;
    if (id.pid > 0) {
        m = static_cast<u32>(id.pid - 1);
    } else {
        // Any process: the current thread's if it is still listed.
        const u32 mask = all_processes_mask();
        if (!mask)
            return false;
        m = process_of(gthread_);
        if (!(mask & (1u << m)))
            m = static_cast<u32>(__builtin_ctz(mask));
    }
    if (!listed(m))
        return false;
    const u32 n = target_.num_threads(m);
    if (id.tid > static_cast<i64>(n) || n == 0)
        return false;
    t = first_thread(m) + (id.tid > 0 ? static_cast<u32>(id.tid - 1) : 0);
    return t < num_threads();
}

bool Stub::thread_matches(const ThreadId& id, u32 t)
{
    const u32 m = process_of(t);
    if (id.pid > 0 && static_cast<u32>(id.pid - 1) != m)
        return false;
    return id.tid <= 0 || t - first_thread(m) + 1 == static_cast<u32>(id.tid);
}

void Stub::cmd_set_thread(const char* p)
{
    const char op = *p++;
    ThreadId id;
    if ((op != 'g' && op != 'c') || !parse_thread(p, id) || *p) {
        reply_error(kErrArgs);
        return;
    }
    u32 t = gthread_;
    const bool one = id.pid >= 0 && id.tid >= 0;
    if (one && !resolve_thread(id, t)) {
        reply_error(kErrThread);
        return;
    }
    if (id.pid > 0 && !listed(static_cast<u32>(id.pid - 1))) {
        reply_error(kErrThread);
        return;
    }
    if (op == 'g') {
        if (!one) {
            reply_error(kErrArgs); // registers of "all threads" make no sense
            return;
        }
        // Hg0 keeps the current thread.
        if (id.pid != 0 || id.tid != 0 || !listed(process_of(gthread_)))
            gthread_ = t;
    } else {
        cthread_ = id;
    }
    reply("OK");
}

void Stub::cmd_detach(const char* p, usize n)
{
    // D or vKill: the whole session; D;pid, vKill;pid: one process.
    if (n == 0) {
        reply("OK");
        detach();
        return;
    }
    u64 pid;
    if (*p != ';' || (p++, !parse_hex(p, pid)) || *p) {
        reply_error(kErrArgs);
        return;
    }
    if (pid == 0 || !listed(static_cast<u32>(pid - 1))) {
        reply_error(kErrThread);
        return;
    }
    reply("OK");
    detach_process(static_cast<u32>(pid - 1));
}

void Stub::cmd_read_regs()
{
    Regs r{};
    target_.read_regs(gthread_, r);
    begin();
    for (unsigned i = 0; i < kNumRegs; i++) {
        usize size;
        const u8* b = reg_bytes(r, i, size);
        out_.put_hex_bytes(b, size);
    }
    send();
}

void Stub::cmd_write_regs(const char* p, usize n)
{
    u8 img[kRegsBytes];
    if (!parse_hex_bytes(p, n, img, sizeof img)) {
        reply_error(kErrArgs);
        return;
    }
    Regs r{};
    usize at = 0;
    for (unsigned i = 0; i < kNumRegs; i++) {
        usize size;
        u8* b = reg_bytes(r, i, size);
        copy(b, img + at, size);
        at += size;
    }
    reply(target_.write_regs(gthread_, r) ? "OK" : "E01");
}

void Stub::cmd_read_reg(const char* p)
{
    u64 num;
    if (!parse_hex(p, num) || *p) {
        reply_error(kErrArgs);
        return;
    }
    Regs r{};
    usize size = 0;
    const u8* b = num < kNumRegs ? reg_bytes(r, static_cast<unsigned>(num), size) : nullptr;
    if (!b) {
        reply_error(kErrArgs);
        return;
    }
    target_.read_regs(gthread_, r);
    begin();
    out_.put_hex_bytes(b, size);
    send();
}

void Stub::cmd_write_reg(const char* p)
{
    u64 num;
    if (!parse_hex(p, num) || !expect(p, '=') || num >= kNumRegs) {
        reply_error(kErrArgs);
        return;
    }
    Regs r{};
    target_.read_regs(gthread_, r);
    usize size;
    u8* b = reg_bytes(r, static_cast<unsigned>(num), size);
    usize digits = 0;
    while (p[digits])
        digits++;
    u8 val[16];
    if (!parse_hex_bytes(p, digits, val, size)) {
        reply_error(kErrArgs);
        return;
    }
    copy(b, val, size);
    reply(target_.write_regs(gthread_, r) ? "OK" : "E01");
}

usize Stub::read_shadowed(u32 t, u64 va, u8* buf, usize len)
{
    const usize got = target_.read_memory(t, va, buf, len);
    // Show the guest's own instructions, not our BRKs.
    const u32 m = process_of(t);
    for (const auto& b : sw_) {
        if (!b.used || b.process != m)
            continue;
        for (u64 i = 0; i < 4; i++)
            if (b.addr + i - va < got)
                buf[b.addr + i - va] = b.orig[i];
    }
    return got;
}

usize Stub::write_shadowed(u32 t, u64 va, const u8* buf, usize len)
{
    const usize done = target_.write_memory(t, va, buf, len);
    // A write over an inserted breakpoint changes what it will restore,
    // and the breakpoint stays.
    const u32 m = process_of(t);
    for (auto& b : sw_) {
        if (!b.used || b.process != m)
            continue;
        bool hit = false;
        for (u64 i = 0; i < 4; i++)
            if (b.addr + i - va < done) {
                b.orig[i] = buf[b.addr + i - va];
                hit = true;
            }
        if (hit) {
            const u32 insn = kBrkInsn;
            target_.write_memory(b.thread, b.addr, reinterpret_cast<const u8*>(&insn), 4);
        }
    }
    return done;
}

void Stub::cmd_read_mem(const char* p)
{
    u64 addr, len;
    if (!parse_hex(p, addr) || !expect(p, ',') || !parse_hex(p, len) || *p) {
        reply_error(kErrArgs);
        return;
    }
    // A shorter reply than asked for is allowed; gdb asks again for the rest.
    if (len > sizeof mem_)
        len = sizeof mem_;
    const usize got = read_shadowed(gthread_, addr, mem_, len);
    if (got == 0 && len > 0) {
        reply_error(kErrMemory);
        return;
    }
    begin();
    out_.put_hex_bytes(mem_, got);
    send();
}

void Stub::cmd_write_mem(const char* p, usize n, bool binary)
{
    const char* start = p;
    u64 addr, len;
    if (!parse_hex(p, addr) || !expect(p, ',') || !parse_hex(p, len) || !expect(p, ':') || len > sizeof mem_) {
        reply_error(kErrArgs);
        return;
    }
    const usize data_len = n - static_cast<usize>(p - start);
    if (binary) {
        if (data_len != len) {
            reply_error(kErrArgs);
            return;
        }
        copy(mem_, reinterpret_cast<const u8*>(p), len);
    } else if (!parse_hex_bytes(p, data_len, mem_, len)) {
        reply_error(kErrArgs);
        return;
    }
    if (len == 0) {
        reply("OK"); // gdb's probe for X support
        return;
    }
    reply(write_shadowed(gthread_, addr, mem_, len) == len ? "OK" : "E14");
}

bool Stub::insert_sw(u32 t, u64 addr)
{
    // Per process: each VM has its own address space.
    const u32 m = process_of(t);
    SwBreakpoint* slot = nullptr;
    for (auto& b : sw_) {
        if (b.used && b.process == m && b.addr == addr)
            return true;
        if (!b.used && !slot)
            slot = &b;
    }
    if (!slot)
        return false;
    u8 orig[4];
    const u32 insn = kBrkInsn;
    if (target_.read_memory(t, addr, orig, 4) != 4)
        return false;
    if (target_.write_memory(t, addr, reinterpret_cast<const u8*>(&insn), 4) != 4)
        return false;
    *slot = SwBreakpoint{
        .addr = addr, .thread = t, .process = m, .orig = {orig[0], orig[1], orig[2], orig[3]}, .used = true};
    return true;
}

bool Stub::remove_sw(u32 process, u64 addr)
{
    for (auto& b : sw_) {
        if (b.used && b.process == process && b.addr == addr) {
            b.used = false;
            return target_.write_memory(b.thread, b.addr, b.orig, 4) == 4;
        }
    }
    return true; // not ours (any more): nothing to undo
}

void Stub::remove_all_breakpoints(u32 process)
{
    for (auto& b : sw_)
        if (b.used && b.process == process)
            remove_sw(process, b.addr);
}

void Stub::cmd_breakpoint(const char* p, bool insert)
{
    u64 type, addr, kind;
    if (!parse_hex(p, type) || !expect(p, ',') || !parse_hex(p, addr) || !expect(p, ',') || !parse_hex(p, kind) ||
        (*p && *p != ';')) {
        reply_error(kErrArgs);
        return;
    }
    if (type > 1) {
        reply(""); // watchpoints: not supported
        return;
    }
    if (kind != 4 || (addr & 3)) {
        reply_error(kErrArgs); // A64 instructions: 4 bytes, aligned
        return;
    }
    if (type == 0) {
        if (insert) {
            const usize used = [this] {
                usize k = 0;
                for (const auto& b : sw_)
                    k += b.used;
                return k;
            }();
            if (!is_sw_breakpoint(process_of(gthread_), addr) && used == kMaxSwBreakpoints)
                reply_error(kErrNoSpace);
            else
                reply(insert_sw(gthread_, addr) ? "OK" : "E14");
        } else {
            reply(remove_sw(process_of(gthread_), addr) ? "OK" : "E14");
        }
        return;
    }
    // Hardware breakpoint: a table per process, applied to each of its
    // vCPUs before it runs again.
    const u32 m = process_of(gthread_);
    u64* hw = hw_[m];
    u32& nhw = nhw_[m];
    u32 i = 0;
    while (i < nhw && hw[i] != addr)
        i++;
    if (insert) {
        const u32 slots = target_.hw_breakpoint_slots();
        if (i == nhw) {
            if (nhw >= slots || nhw >= kMaxHwBreakpoints) {
                reply_error(kErrNoSpace);
                return;
            }
            hw[nhw++] = addr;
        }
    } else if (i < nhw) {
        hw[i] = hw[--nhw];
    }
    target_.set_hw_breakpoints(m, hw, nhw);
    reply("OK");
}

void Stub::resume_with(Action* a)
{
    bool any = false;
    for (u32 t = 0; t < kMaxThreads; t++) {
        if (t >= num_threads() || !listed(process_of(t)))
            a[t] = Action::Continue; // not the client's: runs as without gdb
        else
            any |= a[t] != Action::Stop;
    }
    if (!any) {
        reply_error(kErrArgs);
        return;
    }
    state_ = State::Running;
    waiting_stop_ = true;
    target_.resume(a);
}

void Stub::cmd_resume_legacy(const char* p, bool step, bool with_signal)
{
    // [sig][;addr] for C/S, [addr] for c/s. The signal is ignored: there is
    // no way to deliver a host signal to a guest kernel.
    u64 v;
    if (with_signal) {
        if (!parse_hex(p, v))
            return reply_error(kErrArgs);
        if (*p == ';')
            p++;
        else if (*p)
            return reply_error(kErrArgs);
    }
    u32 t = gthread_;
    if (cthread_.pid >= 0 && cthread_.tid > 0 && !resolve_thread(cthread_, t))
        t = gthread_;
    if (*p) {
        u64 addr;
        if (!parse_hex(p, addr) || *p)
            return reply_error(kErrArgs);
        Regs r{};
        target_.read_regs(t, r);
        r.pc = addr;
        target_.write_regs(t, r);
    }
    Action a[kMaxThreads];
    for (u32 i = 0; i < kMaxThreads; i++)
        a[i] = step ? (i == t ? Action::Step : Action::Stop) : Action::Continue;
    resume_with(a);
}

void Stub::cmd_vcont(const char* p)
{
    // ;action[:thread] ... ; the leftmost action that names a thread wins.
    Action a[kMaxThreads];
    bool set[kMaxThreads] = {};
    for (auto& x : a)
        x = Action::Stop;
    const u32 n = num_threads();
    while (*p) {
        if (!expect(p, ';'))
            return reply_error(kErrArgs);
        Action act;
        const char c = *p++;
        if (c == 'c' || c == 's') {
            act = c == 's' ? Action::Step : Action::Continue;
        } else if (c == 'C' || c == 'S') {
            u64 sig;
            if (!parse_hex(p, sig))
                return reply_error(kErrArgs);
            act = c == 'S' ? Action::Step : Action::Continue;
        } else {
            return reply_error(kErrArgs); // t (non-stop only), r (not offered)
        }
        ThreadId id{-1, -1};
        if (*p == ':') {
            p++;
            if (!parse_thread(p, id))
                return reply_error(kErrArgs);
            u32 one;
            if (id.pid > 0 && !listed(static_cast<u32>(id.pid - 1)))
                return reply_error(kErrThread);
            if (id.tid > 0 && !resolve_thread(id, one))
                return reply_error(kErrThread);
        }
        if (*p && *p != ';')
            return reply_error(kErrArgs);
        for (u32 t = 0; t < n && t < kMaxThreads; t++) {
            if (!set[t] && thread_matches(id, t)) {
                a[t] = act;
                set[t] = true;
            }
        }
    }
    resume_with(a);
}

} // namespace gdb
