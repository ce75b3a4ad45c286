"""A loopback HTTP server for crawler tests: several named hosts by Host header, every request recorded.

Routes map ``(host, path)`` to a `Reply`, or to a list of replies served in turn (the last one repeats).
``Reply(close=True)`` closes the connection without answering; ``Reply(delay=s)`` answers after ``s`` seconds. Requests are recorded with a monotonic
timestamp, so tests check on the server side what was asked and when.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    close: bool = False
    delay: float = 0.0
    """Seconds to wait before answering (a slow site)."""


@dataclass(frozen=True)
class Seen:
    time: float
    host: str
    path: str
    user_agent: str


def html(*links: str, head: str = "", text: str = "Some page text that is long enough to keep.") -> Reply:
    anchors = "".join(f'<a href="{link}">link</a> ' for link in links)
    return Reply(200, f"<html><head>{head}<title>t</title></head><body><p>{text}</p>{anchors}</body></html>")


class LoopbackServer:
    def __init__(self, address: str = "127.0.0.1", port: int = 0) -> None:
        self.address = address
        self.routes: dict[tuple[str, str], Reply | list[Reply]] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._served: dict[tuple[str, str], int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
                with server._lock:
                    server.seen.append(
                        Seen(time.monotonic(), host, self.path, self.headers.get("User-Agent") or "")
                    )
                    reply = server._reply(host, self.path)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.close:
                    self.close_connection = True
                    return
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer((address, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def _reply(self, host: str, path: str) -> Reply:
        route = self.routes.get((host, path))
        if route is None:
            return Reply(404, "not found", content_type="text/plain")
        if isinstance(route, Reply):
            return route
        count = self._served.get((host, path), 0)
        self._served[(host, path)] = count + 1
        return route[min(count, len(route) - 1)]

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    def resolve(self, *hosts: str) -> list[str]:
        return [f"{host}:{self.port}:{self.address}" for host in hosts]

    def paths(self, host: str | None = None) -> list[str]:
        return [s.path for s in self.seen if host is None or s.host == host]

    def times(self, host: str, predicate: Callable[[str], bool] = lambda p: True) -> list[float]:
        return [s.time for s in self.seen if s.host == host and predicate(s.path)]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def loopback(address: str = "127.0.0.1", port: int = 0) -> Iterator[LoopbackServer]:
    """A running server on ``address`` (any of 127.0.0.0/8 on Linux) and ``port`` (0: a free one)."""
    server = LoopbackServer(address, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
