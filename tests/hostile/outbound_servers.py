"""Small real HTTP servers on loopback that misbehave on purpose, for the outbound tests: they
drip headers or bodies, redirect elsewhere, pretend to be the cloud metadata service, and record
every request they get. Each runs in threads of the test process and stops with the test."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from tests.documents import text_pdf

# (the connection's writer, the request's path, the server's stop signal)
Respond = Callable[[BinaryIO, str, threading.Event], None]


@dataclass
class LoopbackServer:
    host: str
    port: int
    stop: threading.Event
    hits: list[tuple[str, str]] = field(default_factory=list)  # (method, path)

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextlib.contextmanager
def serve(respond: Respond, host: str = "127.0.0.1") -> Iterator[LoopbackServer]:
    stop = threading.Event()
    server = LoopbackServer(host, 0, stop)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            request_line = self.rfile.readline().decode("latin-1").split()
            length = 0
            while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            self.rfile.read(length)
            if len(request_line) < 2:
                return
            server.hits.append((request_line[0], request_line[1]))
            with contextlib.suppress(OSError):  # the client hung up: what the test wanted
                respond(self.wfile, request_line[1], stop)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    tcp = Server((host, 0), Handler)
    server.port = tcp.server_address[1]
    threading.Thread(target=tcp.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield server
    finally:
        stop.set()
        tcp.shutdown()
        tcp.server_close()


def answer(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None) -> Respond:
    def respond(out: BinaryIO, path: str, stop: threading.Event) -> None:
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        out.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    return respond


def pdf() -> Respond:
    return answer(200, text_pdf(["fetched"]), {"Content-Type": "application/pdf"})


def redirect(location: str) -> Respond:
    return answer(302, b"", {"Location": location})


def drip_body(every_s: float, chunk: bytes = b"%", declared: int = 10_000_000) -> Respond:
    """Headers at once, then `chunk` every `every_s` seconds, never reaching `declared` bytes."""

    def respond(out: BinaryIO, path: str, stop: threading.Event) -> None:
        out.write(f"HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\n\r\n".encode())
        out.flush()
        while not stop.wait(every_s):
            out.write(chunk)
            out.flush()

    return respond


def drip_headers(every_s: float) -> Respond:
    """A status line, then one more byte of a header every `every_s` seconds, for ever."""

    def respond(out: BinaryIO, path: str, stop: threading.Event) -> None:
        out.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        out.flush()
        while not stop.wait(every_s):
            out.write(b"a")
            out.flush()

    return respond
