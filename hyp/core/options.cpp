// See options.h. Parsing works on (pointer, length) tokens in place: bootargs
// points into the DTB and must not be modified.
#include "core/options.h"

#include "core/format.h"
#include "core/token.h"

namespace {

class Parser {
public:
    Parser(Options& out, char* err, usize err_len) : out_(out), err_(err), err_len_(err_len) {}

    // One "key=value" token.
    bool option(Token tok)
    {
        usize eq = 0;
        while (eq < tok.n && tok.s[eq] != '=')
            eq++;
        const Token key{tok.s, eq};
        const Token val{tok.s + eq + (eq < tok.n), eq < tok.n ? tok.n - eq - 1 : 0};
        const bool has_value = eq < tok.n;

        if (key.equals("mode")) {
            if (has_value && val.equals("multi"))
                out_.mode = Mode::Multi;
            else if (has_value && val.equals("single"))
                out_.mode = Mode::Single;
            else
                return fail(tok, "expected mode=multi or mode=single");
            return true;
        }
        if (key.equals("initrd_size")) {
            if (!has_value || !parse_u64(val, out_.initrd_size))
                return fail(tok, "expected initrd_size=<bytes> (decimal or 0x hex)");
            return true;
        }
        if (key.equals("timeslice_ms")) {
            u64 v = 0;
            if (!has_value || !parse_u64(val, v) || v < 1 || v > 1000)
                return fail(tok, "expected timeslice_ms=1..1000");
            out_.timeslice_ms = static_cast<u32>(v);
            return true;
        }
        if (key.equals("gdb"))
            return flag(tok, has_value, val, out_.gdb, "expected gdb=0 or gdb=1");
        if (key.equals("debug"))
            return flag(tok, has_value, val, out_.debug, "expected debug=0 or debug=1");
        if (key.equals("trace"))
            return flag(tok, has_value, val, out_.trace, "expected trace=0 or trace=1");
        if (key.equals("trace_events")) {
            // Checked against the event names when tracing starts (trace.cpp).
            if (!has_value || val.n == 0 || val.n >= Options::kTraceEventsMax)
                return fail(tok, "expected trace_events=all or a comma-separated list of event names");
            for (usize i = 0; i < val.n; i++)
                out_.trace_events[i] = val.s[i];
            out_.trace_events[val.n] = '\0';
            return true;
        }
        return fail(tok, "unknown option; expected mode=, initrd_size=, timeslice_ms=, gdb=, debug=, trace=, "
                         "trace_events= or --");
    }

    // The guest's part, with surrounding blanks trimmed.
    bool guest_cmdline(const char* s)
    {
        while (is_blank(*s))
            s++;
        usize n = 0;
        while (s[n])
            n++;
        while (n && is_blank(s[n - 1]))
            n--;
        if (n >= Options::kGuestCmdlineMax) {
            if (err_len_)
                fmt_snprintf(err_, err_len_, "guest command line too long: %zu bytes, max %zu", n,
                             Options::kGuestCmdlineMax - 1);
            return false;
        }
        for (usize i = 0; i < n; i++)
            out_.guest_cmdline[i] = s[i];
        out_.guest_cmdline[n] = '\0';
        return true;
    }

private:
    // A 0|1 option.
    bool flag(Token tok, bool has_value, Token val, bool& out, const char* expected)
    {
        if (has_value && (val.equals("0") || val.equals("1"))) {
            out = val.s[0] == '1';
            return true;
        }
        return fail(tok, expected);
    }

    bool fail(Token tok, const char* expected)
    {
        if (err_len_)
            fmt_snprintf(err_, err_len_, "bad option '%.*s': %s", static_cast<int>(tok.n), tok.s,
                         expected);
        return false;
    }

    Options& out_;
    char* err_;
    usize err_len_;
};

} // namespace

const char* mode_name(Mode m)
{
    switch (m) {
    case Mode::Multi: return "multi";
    case Mode::Single: return "single";
    }
    return "?";
}

bool parse_options(const char* bootargs, Options& out, char* err, usize err_len)
{
    out = Options{};
    if (err_len)
        err[0] = '\0';
    if (!bootargs)
        return true;

    Parser parser(out, err, err_len);
    const char* p = bootargs;
    for (;;) {
        while (is_blank(*p))
            p++;
        if (!*p)
            return true;
        const char* start = p;
        while (*p && !is_blank(*p))
            p++;
        const Token t{start, static_cast<usize>(p - start)};
        if (t.equals("--"))
            return parser.guest_cmdline(p);
        if (!parser.option(t))
            return false;
    }
}
