"""A minimal Redis client on the standard library: the driver reads the broker's records itself.

Why not redis-py: the driver is plain Python 3.11 with nothing installed (redis-py lives only in
the Celery virtual environment), and the few commands it needs (AUTH, pipelined HMGET and GET,
SMEMBERS, ZRANGE, FLUSHALL) take thirty lines of RESP, the protocol Redis documents for exactly
this. Every call opens nothing new: one connection, reopened only after the broker went away.
"""

import socket


class RedisError(Exception):
    """Redis answered with an error, or the connection failed."""


class Redis:
    def __init__(self, host, port, password, timeout=5.0):
        self.address = (host, port)
        self.password = password
        self.timeout = timeout
        self.sock = None
        self.buf = b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buf = None, b""

    def _connect(self):
        self.sock = socket.create_connection(self.address, timeout=self.timeout)
        self.buf = b""
        self._send([("AUTH", self.password)])
        self._read()

    def _send(self, commands):
        out = bytearray()
        for args in commands:
            out += b"*%d\r\n" % len(args)
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RedisError("connection closed by the broker")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RedisError("connection closed by the broker")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RedisError(f"unexpected reply {line[:40]!r}")

    def pipeline(self, commands):
        """Sends every command in one write and returns their replies in order."""
        try:
            if self.sock is None:
                self._connect()
            self._send(commands)
            return [self._read() for _ in commands]
        except (OSError, RedisError) as e:
            self.close()
            raise RedisError(str(e)) from e

    def call(self, *args):
        return self.pipeline([args])[0]
