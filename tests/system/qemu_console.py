"""Drive a QEMU (or any) process through its serial console.

Standard library only (pexpect is not available). The child's console is
either a pty (default; QEMU then sees a terminal, as an interactive user
would give it) or plain stdin/stdout pipes. Everything the child prints is
appended to a log file as raw bytes.

    from qemu_console import QemuConsole
    with QemuConsole(cmd, log_path="build/test.log") as c:
        m = c.expect(r"GUEST-BOOT-OK cpus=(\\d+)", timeout=60)
        c.expect(r"# ", timeout=10)          # shell prompt
        rc, out = c.run("grep -c processor /proc/cpuinfo")
        c.send("poweroff -f")
        assert c.wait_exit(30) == 0

Matching works like pexpect: each expect() searches the text after the end
of the previous match, and on success moves that position to the match end.
Text the guest printed is found even where a hypervisor line cut it in two
(the hypervisor marks the cut; see QemuConsole._HYP_RECORD); run() returns
the guest's output without the hypervisor's lines.
Text is decoded as UTF-8 with replacement; serial lines end in "\\r\\n".
"""

import bisect
import codecs
import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
import tty

__all__ = ["QemuConsole", "ConsoleError", "ConsoleTimeout", "ConsoleEOF"]


class ConsoleError(Exception):
    """Base class; the message ends with the tail of the console output."""


class ConsoleTimeout(ConsoleError):
    pass


class ConsoleEOF(ConsoleError):
    """The child closed its console (usually: it exited) before a match."""


def _tail(text, n=2000):
    t = text[-n:]
    return t if len(text) <= n else "..." + t


def _earliest(regs, text, pos=0):
    """(index, match) of the pattern that matches first in text from pos, or None."""
    best = None
    for i, r in enumerate(regs):
        m = r.search(text, pos)
        if m and (best is None or m.start() < best[1].start()):
            best = (i, m)
    return best


class QemuConsole:
    def __init__(self, cmd, log_path=None, use_pty=True, echo=None,
                 env=None, cwd=None, eol="\r"):
        """Start `cmd` (a list of arguments) at once.

        log_path: file that receives every byte of console output (appended).
        use_pty:  True for a pty, False for stdin/stdout pipes.
        echo:     also copy output to our stdout; default from the
                  environment variable QEMU_CONSOLE_ECHO=1.
        eol:      what send() appends to a line ("\\r" is what Enter sends).
        """
        self.cmd = list(cmd)
        self.eol = eol
        if echo is None:
            echo = os.environ.get("QEMU_CONSOLE_ECHO") == "1"
        self._echo = echo
        self._log = open(log_path, "ab") if log_path else None
        self._buf = ""        # all decoded output so far
        self._pos = 0         # expect() searches from here
        self._eof = False
        self._cond = threading.Condition()
        self._dec = codecs.getincrementaldecoder("utf-8")("replace")
        self.start_time = time.monotonic()

        if self._log:
            self._log.write(("\n=== %s: %s\n" % (
                time.strftime("%Y-%m-%d %H:%M:%S"),
                " ".join(self.cmd))).encode())
            self._log.flush()

        # Own session: the child must not get our terminal's signals, and
        # with a pty it is where the child's controlling terminal would be.
        if use_pty:
            master, slave = pty.openpty()
            # Raw until QEMU sets its own modes: no echo of what we send,
            # no line buffering.
            tty.setraw(slave)
            self.proc = subprocess.Popen(
                self.cmd, stdin=slave, stdout=slave, stderr=slave,
                env=env, cwd=cwd, start_new_session=True, close_fds=True)
            os.close(slave)
            self._rfd = master
            self._wfd = master
        else:
            self.proc = subprocess.Popen(
                self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, env=env, cwd=cwd,
                start_new_session=True, bufsize=0)
            self._rfd = self.proc.stdout.fileno()
            self._wfd = self.proc.stdin.fileno()
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    # -- output side ---------------------------------------------------------

    def _read_loop(self):
        while True:
            try:
                data = os.read(self._rfd, 65536)
            except OSError:      # EIO on a pty master once the child is gone
                data = b""
            if self._log and data:
                self._log.write(data)
                self._log.flush()
            if self._echo and data:
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
            with self._cond:
                if data:
                    self._buf += self._dec.decode(data)
                else:
                    self._buf += self._dec.decode(b"", final=True)
                    self._eof = True
                self._cond.notify_all()
            if not data:
                return

    @property
    def output(self):
        """Everything the child has printed so far."""
        with self._cond:
            return self._buf

    @property
    def elapsed(self):
        """Seconds since the child was started."""
        return time.monotonic() - self.start_time

    def _wait(self, find, what, timeout):
        """Calls find() under the lock each time output arrives until it
        returns something, and returns that. Raises ConsoleEOF or
        ConsoleTimeout, naming `what`, with the output tail."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = find()
                if found:
                    return found
                if self._eof:
                    raise ConsoleEOF("console closed while waiting for %r\n"
                                     "--- output tail ---\n%s" % (what, _tail(self._buf[self._pos:])))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ConsoleTimeout("timeout (%gs) waiting for %r\n"
                                         "--- output tail ---\n%s" % (timeout, what, _tail(self._buf[self._pos:])))
                self._cond.wait(left)

    def expect_any(self, patterns, timeout=30):
        """Wait for the earliest match of any pattern; return (index, match)."""
        regs = [re.compile(p) if isinstance(p, str) else p for p in patterns]

        def find():
            best = _earliest(regs, self._buf, self._pos)
            if best:
                self._pos = best[1].end()
                return best
            # Guest text a hypervisor line cut in two (see _HYP_RECORD) is
            # found in the guest's own view.
            if "\x1e" in self._buf[self._pos:]:
                found = self._search_guest(regs)
                return found and found[0]
            return None
        return self._wait(find, [r.pattern for r in regs], timeout)

    def expect(self, pattern, timeout=30):
        """Wait for `pattern` (str or compiled regex); return the match.

        Raises ConsoleTimeout or ConsoleEOF, with the output tail."""
        return self.expect_any([pattern], timeout)[1]

    # -- input side ----------------------------------------------------------

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        while data:
            n = os.write(self._wfd, data)
            data = data[n:]

    def send(self, line=""):
        """Type `line` and press Enter."""
        self.send_raw(line + self.eol)

    def sendcontrol(self, char):
        """Send Ctrl-<char>, e.g. sendcontrol('c') for an interrupt."""
        self.send_raw(bytes([ord(char.lower()) & 0x1f]))

    _seq = 0

    # A record of the hypervisor: from its mark (0x1E, which a guest cannot
    # print) to the end of the line, or of the text so far. A log line that
    # cuts a guest's line in two is preceded by an empty record at the cut
    # (hyp/arch/aarch64/include/console.h), so dropping every record leaves
    # the guest's output whole.
    _HYP_RECORD = re.compile(r"\x1e[^\n]*(?:\n|\Z)")

    @classmethod
    def _guest_view(cls, text):
        """(text without the hypervisor's records, a function that maps a
        position in that text to the position in `text`)."""
        parts, segs, last, n = [], [], 0, 0   # segs: (view start, text start)
        for m in cls._HYP_RECORD.finditer(text):
            if m.start() > last:
                segs.append((n, last))
                parts.append(text[last:m.start()])
                n += m.start() - last
            last = m.end()
        segs.append((n, last))
        parts.append(text[last:])
        starts = [v for v, _ in segs]

        def where(i):
            # At a boundary, the end of the text before a record: a match
            # that ends there must not skip the record for later expect()s.
            v, t = segs[max(0, bisect.bisect_left(starts, i) - 1)]
            return t + (i - v)
        return "".join(parts), where

    def _search_guest(self, regs):
        """The earliest match of any of regs in the guest's own output from
        the current position (the hypervisor's records left out, even one
        that cut a guest line): ((index, match in the view), the view's start
        in the buffer, its offset map), the position moved past the match;
        or None. Called with the lock held."""
        start = self._pos
        view, where = self._guest_view(self._buf[start:])
        best = _earliest(regs, view)
        if not best:
            return None
        self._pos = start + where(best[1].end())
        return best, start, where

    def run(self, command, timeout=30, abort_on=None):
        """Run a shell command in the guest; return (exit_status, output).

        Output is what the command printed, with "\\r" removed and without
        the hypervisor's lines (console.output has everything). The begin/end
        markers are spelled with an empty "" inside in the typed line, so the
        terminal's echo of that line can never match them, and are found
        even when a hypervisor line cuts them in two.

        abort_on: a pattern that ends the wait at once with a ConsoleError
        (e.g. a hypervisor panic, after which the command never ends)."""
        QemuConsole._seq += 1
        tag = "QC%d" % QemuConsole._seq
        self.send('echo "@@%s""-B@@"; %s; echo "@@%s""-E=$?@@"'
                  % (tag, command, tag))
        begin = self._pos
        self._wait(lambda: self._search_guest([re.compile(r"@@%s-B@@\r*\n" % tag)]), tag + "-B", timeout)
        end = re.compile(r"@@%s-E=(\d+)@@" % tag)
        # The abort pattern is about the hypervisor's lines: it is searched
        # in the whole output, the markers in the guest's.
        abort = re.compile(abort_on) if abort_on else None

        def find():
            return self._search_guest([end]) or (abort and abort.search(self._buf, begin))
        found = self._wait(find, [end.pattern] + ([abort.pattern] if abort else []), timeout)
        if not isinstance(found, tuple):
            raise ConsoleError("%r while running %r\n--- output tail ---\n%s" % (
                found.group(0), command, _tail(self.output[begin:])))
        (_, m1), start, where = found
        with self._cond:
            view, _ = self._guest_view(self._buf[start:start + where(m1.start())])
        return int(m1.group(1)), view.replace("\r", "")

    # -- process -------------------------------------------------------------

    def wait_exit(self, timeout=30):
        """Wait for the child to exit; return its exit code.

        Raises ConsoleTimeout (child left running) if it does not exit."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise ConsoleTimeout("process %d still running after %gs\n"
                                 "--- output tail ---\n%s" % (
                                     self.proc.pid, timeout,
                                     _tail(self.output)))
        self._reader.join(5)     # drain what it printed last
        return rc

    def _signal_group(self, sig):
        # The child leads its own session (and process group), which holds
        # what it started: `make run` -> sh -> run-qemu.sh -> QEMU.
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self):
        """End the child and its process group (SIGTERM, then SIGKILL) and
        release resources."""
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait()
        self.close()

    def close(self):
        if self._rfd < 0:
            return
        self._reader.join(2)
        if self.proc.stdout is not None:     # pipe mode: Popen owns the fds
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
        else:
            try:
                os.close(self._rfd)
            except OSError:
                pass
        self._rfd = self._wfd = -1
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False
