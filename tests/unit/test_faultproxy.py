"""The fault proxy does what each mode says, against a real TCP echo server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from releasegate.measure.faultproxy import LATENCY, PASS, RESET, STALL, FaultProxy


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def echo(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # the reset test resets us too
            while data := conn.recv(1024):
                conn.sendall(data)

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    serving = threading.Thread(target=serve, daemon=True)
    serving.start()
    fault = FaultProxy("127.0.0.1", server.getsockname()[:2]).start()
    yield fault
    fault.stop()
    stop.set()
    serving.join(timeout=2)
    server.close()


def roundtrip(sock: socket.socket, payload: bytes = b"ping") -> float:
    started = time.monotonic()
    sock.sendall(payload)
    assert sock.recv(1024) == payload
    return time.monotonic() - started


def test_pass_and_latency(proxy: FaultProxy) -> None:
    with socket.create_connection(proxy.address, timeout=5) as sock:
        assert roundtrip(sock) < 0.15
        proxy.set(LATENCY, latency_ms=300)
        assert 0.29 <= roundtrip(sock) < 1.0
        proxy.set(PASS)
        assert roundtrip(sock) < 0.15


def test_stall_holds_bytes_until_released(proxy: FaultProxy) -> None:
    with socket.create_connection(proxy.address, timeout=5) as sock:
        roundtrip(sock)
        proxy.set(STALL)
        sock.sendall(b"held")
        sock.settimeout(0.4)
        with pytest.raises(TimeoutError):
            sock.recv(1024)
        proxy.set(PASS)
        sock.settimeout(5)
        assert sock.recv(1024) == b"held"


def test_reset_breaks_open_and_new_connections(proxy: FaultProxy) -> None:
    with socket.create_connection(proxy.address, timeout=5) as sock:
        roundtrip(sock)
        proxy.set(RESET)
        with pytest.raises(OSError):
            for _ in range(3):
                roundtrip(sock)
        with pytest.raises(OSError), socket.create_connection(proxy.address, timeout=5) as fresh:
            roundtrip(fresh)  # reset while connecting or at the first exchange
    proxy.set(PASS)
    with socket.create_connection(proxy.address, timeout=5) as sock:
        assert roundtrip(sock) < 0.15
