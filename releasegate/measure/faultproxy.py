"""A small TCP fault proxy between the application and its database (no netem on these kernels).

It forwards bytes both ways and can, at any moment, be switched to:

``latency``  delay every chunk by half the given time in each direction (one round trip slower
             by the whole of it);
``stall``    stop forwarding (connections stay open, bytes wait; new connections are accepted
             and wait too) — a database that hangs;
``reset``    reset every open connection and every new one (RST, not a polite close);
``pass``     forward at once again (stalled bytes then flow on).

Every connection and its two pump threads end with the proxy; every wait is short and checks
whether the proxy is stopping, so nothing outlives ``stop()``.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time

PASS, LATENCY, STALL, RESET = "pass", "latency", "stall", "reset"
_CHUNK = 65536
_TICK_S = 0.05


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    def __init__(self, listen_host: str, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = PASS
        self.latency_s = 0.0
        self.connections = 0
        self._server = socket.create_server((listen_host, 0))
        self._server.settimeout(_TICK_S * 4)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._open: list[tuple[socket.socket, socket.socket]] = []
        self._threads: list[threading.Thread] = []
        self._accepter = threading.Thread(target=self._accept, name="faultproxy", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> FaultProxy:
        self._accepter.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._accepter.join(timeout=2)
        self._server.close()
        self._reset_all()
        for thread in list(self._threads):
            thread.join(timeout=2)

    def set(self, mode: str, latency_ms: float = 0.0) -> None:
        if mode not in (PASS, LATENCY, STALL, RESET):
            raise ValueError(f"unknown proxy mode {mode!r}")
        self.latency_s = latency_ms / 1000 / 2
        self.mode = mode
        if mode == RESET:
            self._reset_all()

    def _reset_all(self) -> None:
        with self._lock:
            pairs, self._open = self._open, []
        for client, upstream in pairs:
            _reset(client)
            _reset(upstream)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            if self.mode == RESET:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            self.connections += 1
            with self._lock:
                self._open.append((client, upstream))
            done = threading.Semaphore(0)
            for source, sink in ((client, upstream), (upstream, client)):
                thread = threading.Thread(target=self._pump, args=(source, sink, done),
                                          daemon=True)
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
                thread.start()
            closer = threading.Thread(target=self._close_when_done,
                                      args=(client, upstream, done), daemon=True)
            self._threads.append(closer)
            closer.start()

    def _close_when_done(self, client: socket.socket, upstream: socket.socket,
                         done: threading.Semaphore) -> None:
        for _ in range(2):
            while not done.acquire(timeout=_TICK_S * 4):
                if self._stop.is_set():
                    return
        with self._lock:
            if (client, upstream) in self._open:
                self._open.remove((client, upstream))
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.close()

    def _pump(self, source: socket.socket, sink: socket.socket,
              done: threading.Semaphore) -> None:
        try:
            while not self._stop.is_set():
                if self.mode == STALL:
                    time.sleep(_TICK_S)
                    continue
                readable, _, _ = select.select([source], [], [], _TICK_S)
                if not readable:
                    continue
                data = source.recv(_CHUNK)
                if not data:
                    break
                if self.mode == LATENCY and self.latency_s:
                    time.sleep(self.latency_s)
                while self.mode == STALL and not self._stop.is_set():
                    time.sleep(_TICK_S)
                sink.sendall(data)
        except (OSError, ValueError):  # reset, or closed under us (ValueError: fd -1)
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            done.release()
