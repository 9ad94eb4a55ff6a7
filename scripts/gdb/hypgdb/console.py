"""The guest console inside a gdb session (scripts/debug.sh sets it up).

Batch sessions: QEMU writes the console to HYP_GDB_CONSOLE_LOG.
Interactive sessions: QEMU's serial port is the socket HYP_GDB_CONSOLE_SOCK;
the bridge here copies its output to the terminal and to the log, and while
the target runs (and only then) sends what is typed to the guest. At the gdb
prompt the keyboard is gdb's. Ctrl-C stays gdb's interrupt key.

hv-continue-until REGEX [SECONDS] continues the target and stops it, as a
Ctrl-C would, as soon as REGEX appears in the console log: that is how a
script gets the guest to a known point (e.g. booted) and then inspects it.
"""
import os
import re
import select
import shlex
import signal
import socket
import sys
import termios
import threading
import time

import gdb

_log_path = os.environ.get("HYP_GDB_CONSOLE_LOG") or None
_consumed = 0  # console log offset up to which hv-continue-until has matched


class HvContinueUntil(gdb.Command):
    """Continue until the guest console prints REGEX, then stop all pCPUs.

Usage: hv-continue-until REGEX [SECONDS]     (default 300 s)

Searches the guest console log (make debug's DEBUG_DIR/console.log) from
where the previous hv-continue-until matched, so a marker printed while the
target was stopped still counts. When REGEX appears, the target is
interrupted exactly as with Ctrl-C (gdb sends the stub an interrupt; every
pCPU stops wherever it is) and $hv_until is 1. If the target stops for
another reason first (a breakpoint), $hv_until is 0 and the search resumes
with the next hv-continue-until. After SECONDS without a match the target
is interrupted and the command fails. Quote REGEX if it has blanks."""

    def __init__(self):
        super().__init__("hv-continue-until", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        global _consumed
        try:
            words = shlex.split(arg)
        except ValueError as e:
            raise gdb.GdbError("hv-continue-until: %s" % e)
        if len(words) not in (1, 2):
            raise gdb.GdbError("usage: hv-continue-until REGEX [SECONDS]")
        try:
            pattern = re.compile(words[0])
            timeout = float(words[1]) if len(words) == 2 else 300.0
        except (re.error, ValueError) as e:
            raise gdb.GdbError("hv-continue-until: %s" % e)
        if not _log_path:
            raise gdb.GdbError("hv-continue-until: no guest console log (HYP_GDB_CONSOLE_LOG): "
                               "start the session with make debug")

        def search():
            try:
                with open(_log_path, "rb") as f:
                    f.seek(_consumed)
                    text = f.read().decode("utf-8", "replace")
            except OSError:
                return None
            m = pattern.search(text)
            return None if m is None else _consumed + len(text[:m.end()].encode("utf-8", "replace"))

        end = search()
        if end is not None:
            _consumed = end
            gdb.set_convenience_variable("hv_until", 1)
            return

        lock = threading.Lock()
        state = {"running": True, "end": None, "timed_out": False}

        def watch():
            deadline = time.monotonic() + timeout
            while True:
                time.sleep(0.1)
                e = search()
                with lock:
                    if not state["running"]:
                        return
                    if e is not None or time.monotonic() > deadline:
                        state["end"] = e
                        state["timed_out"] = e is None
                        state["running"] = False
                        # What Ctrl-C does: gdb interrupts the remote target.
                        os.kill(os.getpid(), signal.SIGINT)
                        return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            gdb.execute("continue", from_tty)
        finally:
            with lock:
                state["running"] = False
            watcher.join()
        if state["timed_out"]:
            raise gdb.GdbError("hv-continue-until: %r did not appear on the guest console within %g s "
                               "(log: %s)" % (words[0], timeout, _log_path))
        if state["end"] is not None:
            _consumed = state["end"]
            gdb.set_convenience_variable("hv_until", 1)
        else:
            gdb.set_convenience_variable("hv_until", 0)


class Bridge:
    """Console of an interactive session: socket <-> terminal, and the log."""

    def __init__(self, sock_path, log_path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock.connect(sock_path)
                break
            except OSError as e:
                if time.monotonic() > deadline:
                    raise gdb.GdbError("hyp-gdb: cannot connect to the guest console %s: %s" % (sock_path, e))
                time.sleep(0.1)
        self.log = open(log_path, "ab") if log_path else None
        self.tty = sys.stdin.isatty()
        self.saved = None
        self.lock = threading.Lock()
        self.forward = False
        threading.Thread(target=self._output, daemon=True).start()
        if self.tty:
            threading.Thread(target=self._input, daemon=True).start()
        gdb.events.cont.connect(self._on_cont)
        gdb.events.stop.connect(self._on_stop)
        gdb.events.exited.connect(self._on_stop)
        gdb.events.gdb_exiting.connect(self._on_stop)

    def _output(self):
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                return
            os.write(1, data)
            if self.log:
                self.log.write(data)
                self.log.flush()

    def _input(self):
        fd = sys.stdin.fileno()
        while True:
            r, _, _ = select.select([fd], [], [], 0.05)
            if not r:
                continue
            # Read only under the lock and only while forwarding, so that no
            # key typed after the stop event is taken from gdb.
            with self.lock:
                try:
                    data = os.read(fd, 1024) if self.forward else None
                except OSError:
                    data = b""
            if data is None:
                time.sleep(0.05)  # the keys are gdb's: let readline have them
            elif data:
                self.sock.sendall(data)
            else:
                self._hangup()
                return

    def _hangup(self):
        """The terminal went away while the target ran: gdb would wait on the
        running target forever, so end QEMU; gdb then sees the connection
        close, reads EOF at its prompt and exits (make debug cleans up)."""
        pid = os.environ.get("HYP_GDB_QEMU_PID")
        if pid:
            try:
                os.kill(int(pid), signal.SIGTERM)
            except (OSError, ValueError):
                pass

    def _on_cont(self, event):
        with self.lock:
            if self.tty and not self.forward:
                fd = sys.stdin.fileno()
                self.saved = termios.tcgetattr(fd)
                mode = termios.tcgetattr(fd)
                # Bytes as typed (Enter is CR, as on a serial line), no local
                # echo (the guest echoes), but keep ISIG: Ctrl-C is gdb's.
                mode[0] &= ~(termios.ICRNL | termios.IXON)
                mode[3] &= ~(termios.ICANON | termios.ECHO)
                mode[3] |= termios.ISIG
                mode[6][termios.VMIN] = 1
                mode[6][termios.VTIME] = 0
                termios.tcsetattr(fd, termios.TCSANOW, mode)
            self.forward = True

    def _on_stop(self, event=None):
        with self.lock:
            self.forward = False
            if self.saved is not None:
                termios.tcsetattr(sys.stdin.fileno(), termios.TCSANOW, self.saved)
                self.saved = None


_bridge = None


def start_bridge():
    global _bridge
    sock = os.environ.get("HYP_GDB_CONSOLE_SOCK")
    if sock and _bridge is None:
        _bridge = Bridge(sock, _log_path)
