"""A real HTTP server on loopback serving several named sites (by the Host header), for opt-out checks.

Reach a site through ``--resolve HOST:PORT:127.0.0.1`` (`LoopbackSites.resolve`); an unknown host gets 404.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# host -> path -> (status, headers, body)
Response = tuple[int, dict[str, str], bytes]

GPT_ROBOTS = b"# keep GPTBot out\nUser-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
PAGE = b"<!doctype html><html><head><title>t</title></head><body><p>Hello</p></body></html>"
META_PAGE = (
    b'<!doctype html><html><head><meta name="robots" content="noai">'
    b'<meta name="GPTBot" content="noimageai"></head><body>x</body></html>'
)
TDMREP = (
    b'[{"location": "/reserved/*", "tdm-reservation": 1, "tdm-policy": "https://tdm.test/policy.json"},'
    b' {"location": "/*", "tdm-reservation": 0}]'
)
HTML = {"Content-Type": "text/html; charset=utf-8"}
TEXT = {"Content-Type": "text/plain"}

SITES: dict[str, dict[str, Response]] = {
    "gpt.test": {"/robots.txt": (200, TEXT, GPT_ROBOTS), "/a": (200, HTML, PAGE)},
    "gone.test": {"/a": (200, HTML, PAGE)},
    "down.test": {"/robots.txt": (500, TEXT, b"oops"), "/a": (200, HTML, PAGE)},
    "tdm.test": {
        "/.well-known/tdmrep.json": (200, {"Content-Type": "application/json"}, TDMREP),
        "/reserved/1": (200, HTML, PAGE),
        "/open/1": (200, HTML, PAGE),
    },
    "badtdm.test": {
        "/.well-known/tdmrep.json": (200, TEXT, b"<html>not json</html>"),
        "/a": (200, HTML, PAGE),
    },
    "xrobots.test": {"/a": (200, {**HTML, "X-Robots-Tag": "noai"}, PAGE)},
    "named.test": {"/a": (200, {**HTML, "X-Robots-Tag": "GPTBot: noai"}, PAGE)},
    "meta.test": {"/a": (200, HTML, META_PAGE)},
    "moved.test": {
        "/old": (301, {"Location": "/new"}, b""),
        "/new": (200, {**HTML, "X-Robots-Tag": "noimageai"}, PAGE),
    },
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        status, headers, body = SITES.get(host, {}).get(self.path, (404, TEXT, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass(frozen=True)
class LoopbackSites:
    """The running server's port."""

    port: int

    def url(self, host: str, path: str = "/a") -> str:
        return f"http://{host}:{self.port}{path}"

    def resolve(self) -> list[tuple[str, int, str]]:
        return [(host, self.port, "127.0.0.1") for host in SITES]

    def resolve_options(self) -> list[str]:
        return [arg for host in SITES for arg in ("--resolve", f"{host}:{self.port}:127.0.0.1")]


@contextmanager
def loopback_sites() -> Iterator[LoopbackSites]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LoopbackSites(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# a check that cannot name hosts (the registry has no --resolve) reaches the GPTBot site by its address
SITES["127.0.0.1"] = SITES["gpt.test"]
