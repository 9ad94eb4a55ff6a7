"""A minimal GDB remote-serial-protocol client for tests: enough to speak
to the hypervisor's guest gdb stub packet by packet, including on purpose
in ways gdb never would (bad checksums, overlong packets, garbage,
connections dropped in the middle of a packet).

    c = RspClient(port)
    c.send_raw(b"+")
    c.command("qSupported")        # -> "PacketSize=1000;..."
    c.send_packet("vCont;c")       # no reply until the target stops
    c.interrupt()                  # Ctrl-C
    c.read_packet()                # -> "T02thread:1;..."
"""
import socket
import time


def checksum(body):
    return sum(body) & 0xff


def frame(body):
    if isinstance(body, str):
        body = body.encode("latin-1")
    return b"$" + body + b"#%02x" % checksum(body)


class RspError(Exception):
    pass


class RspClient:
    def __init__(self, port, host="127.0.0.1", timeout=20.0, connect_timeout=30.0):
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                self.sock = socket.create_connection((host, port), timeout=timeout)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.acks = True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise RspError("timeout; buffer %r" % self.buf[-200:])
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise RspError("timeout; buffer %r" % self.buf[-200:])
        if not data:
            raise RspError("connection closed; buffer %r" % self.buf[-200:])
        self.buf += data

    def read_byte(self, timeout=20.0):
        """The next byte the stub sent (an ack, a nak or the start of a packet)."""
        deadline = time.monotonic() + timeout
        while not self.buf:
            self._fill(deadline)
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def read_ack(self, timeout=20.0):
        return self.read_byte(timeout)

    def read_packet(self, timeout=20.0):
        """The next packet's payload (acks before it are skipped); checks
        the checksum and acknowledges it like gdb does."""
        deadline = time.monotonic() + timeout
        while True:
            i = self.buf.find(b"$")
            if i >= 0:
                j = self.buf.find(b"#", i)
                if j >= 0 and len(self.buf) >= j + 3:
                    body = self.buf[i + 1:j]
                    cs = int(self.buf[j + 1:j + 3], 16)
                    self.buf = self.buf[j + 3:]
                    if cs != checksum(body):
                        raise RspError("bad checksum from the stub: %r" % body)
                    if self.acks:
                        self.send_raw(b"+")
                    return self._decode(body).decode("latin-1")
            self._fill(deadline)

    @staticmethod
    def _decode(body):
        out = bytearray()
        i = 0
        while i < len(body):
            c = body[i]
            if c == 0x7d:
                out.append(body[i + 1] ^ 0x20)
                i += 2
            elif c == 0x2a:
                out += bytes([out[-1]]) * (body[i + 1] - 29)
                i += 2
            else:
                out.append(c)
                i += 1
        return bytes(out)

    def send_packet(self, body, expect_ack=True, timeout=20.0):
        self.send_raw(frame(body))
        if self.acks and expect_ack:
            a = self.read_ack(timeout)
            if a != b"+":
                raise RspError("expected '+' for %r, got %r" % (body, a))

    def command(self, body, timeout=20.0):
        """Send one packet, return the reply payload."""
        self.send_packet(body, timeout=timeout)
        return self.read_packet(timeout)

    def interrupt(self):
        self.send_raw(b"\x03")

    def no_ack_mode(self):
        r = self.command("QStartNoAckMode")
        if r == "OK":
            self.acks = False
        return r
