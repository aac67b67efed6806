"""A tiny static HTTP/1.1 server for the load-generator benchmark: one process, one core,
keep-alive, a fixed 2-byte body, optionally answering each request after a fixed delay.

    python benchmarks/tiny_server.py PORT [DELAY_MS]

asyncio protocol code with no framework, so that one core serves more requests than one core
of any of the generators compared can send (the generator, not the server, is measured).
"""

from __future__ import annotations

import asyncio
import sys

RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n"
            b"Server-Timing: app;dur=0.1\r\n\r\nok")


class Http(asyncio.Protocol):
    delay_s = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.buffer = self.buffer[end + 4:]  # GET requests only: no body to skip
            if self.delay_s:
                asyncio.get_running_loop().call_later(self.delay_s, self._answer)
            else:
                self.transport.write(RESPONSE)

    def _answer(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(RESPONSE)


async def main(port: int, delay_ms: float) -> None:
    Http.delay_s = delay_ms / 1000.0
    server = await asyncio.get_running_loop().create_server(Http, "127.0.0.1", port,
                                                            backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.0))
