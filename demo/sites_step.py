"""The demo's live crawl: three invented sites served on 127.0.0.1, checked and crawled with kiroku's own crawler.

`serve_sites` serves the sites of demo/data/crawl-sites.json, told apart by the ``Host`` header, on a free port of
127.0.0.1: Yamabiko Kitchen (an English cooking blog open to every crawler but for its drafts, one post marked
``noai``), かわせみ日報 (a Japanese daily whose robots.txt disallows AcmeBot and GPTBot) and 楠書房 (a Japanese
publisher reserving text and data mining rights by ``/.well-known/tdmrep.json`` for all but its press releases).
`crawl_sites` is the demo step: ``kiroku optout check`` on a page of each opted-out site, then ``kiroku crawl`` of
the three with ``--resolve`` pinning every name to 127.0.0.1 (nothing leaves the machine), then every decision
of the crawl's log. The crawl obeys AcmeBot, the token in the demo crawl's warcinfo, so the robots.txt group the
daily wrote for AcmeBot is the one that counts.
"""

from __future__ import annotations

import gzip
import html
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from _shell import run, step

HERE = Path(__file__).resolve().parent
SITES = HERE / "data" / "crawl-sites.json"
AGENT = "AcmeBot"  # the robots.txt product token the crawl obeys: the one the demo crawl's warcinfo names
SOURCE = "acme-crawl-live"  # registered by `kiroku crawl` as a web_crawl source
OPEN = "www.yamabiko-kitchen.example"  # open to every crawler (but /drafts/); one post is noai
ROBOTS = "www.kawasemi-nippo.example"  # robots.txt disallows AcmeBot and GPTBot
TDMREP = "www.kusunoki-shobo.example"  # tdmrep.json reserves every page but /press/


def load_sites() -> dict[str, dict[str, Any]]:
    """The sites of demo/data/crawl-sites.json by host name."""
    sites = json.loads(SITES.read_text(encoding="utf-8"))["sites"]
    return {site["host"]: site for site in sites}


def _href(target: str, hosts: dict[str, dict[str, Any]], port: int) -> str:
    """A link as served: a URL of a host served here gets the server's port; anything else is kept."""
    parts = urlsplit(target)
    if parts.hostname in hosts:
        return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}"))
    return target


def render_page(
    site: dict[str, Any], page: dict[str, Any], hosts: dict[str, dict[str, Any]], port: int
) -> bytes:
    """One page as a small HTML document: its meta tags, title, paragraphs and links."""
    title = html.escape(page["title"])
    metas = "".join(
        f'<meta name="{html.escape(name)}" content="{html.escape(content)}">'
        for name, content in page.get("meta", {}).items()
    )
    paragraphs = "".join(f"<p>{html.escape(text)}</p>" for text in page["text"])
    links = "".join(
        f'<li><a href="{html.escape(_href(target, hosts, port))}">{html.escape(text)}</a></li>'
        for target, text in page.get("links", [])
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{site["lang"]}"><head><meta charset="utf-8">{metas}<title>{title}</title>'
        f'</head><body><header><a href="/">{html.escape(site["name"])}</a></header><main><article>'
        f"<h1>{title}</h1>{paragraphs}<ul>{links}</ul></article></main>"
        f"<footer>&copy; 2026 {html.escape(site['name'])}</footer></body></html>\n"
    ).encode()


def _reply(host: str, path: str, hosts: dict[str, dict[str, Any]], port: int) -> tuple[int, str, bytes]:
    """(status, content type, body) for a request of ``path`` on ``host``."""
    site = hosts.get(host)
    if site is None:
        return 404, "text/plain; charset=utf-8", b"not found\n"
    if path == "/robots.txt" and "robots.txt" in site:
        return 200, "text/plain; charset=utf-8", "".join(line + "\n" for line in site["robots.txt"]).encode()
    if path == "/.well-known/tdmrep.json" and "tdmrep.json" in site:
        return 200, "application/json", json.dumps(site["tdmrep.json"], indent=1).encode()
    for page in site["pages"]:
        if page["path"] == path:
            return 200, "text/html; charset=utf-8", render_page(site, page, hosts, port)
    return 404, "text/plain; charset=utf-8", b"not found\n"


@contextmanager
def serve_sites() -> Iterator[int]:
    """Serve the sites of demo/data/crawl-sites.json on a free port of 127.0.0.1 while the block runs; yield
    the port. Unknown hosts and paths get a 404."""
    hosts = load_sites()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the crawl's decision log says what was asked."""

        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
            status, content_type, body = _reply(
                host, urlsplit(self.path).path, hosts, server.server_address[1]
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _decisions(workspace: Path) -> list[dict[str, Any]]:
    """Every line of the decision log of the workspace's (only) crawl."""
    (log,) = sorted((workspace / "crawls").glob("*/decisions.jsonl.gz"))
    with gzip.open(log, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def print_decisions(workspace: Path, port: int) -> None:
    """The crawl's decision log, one line per URL: outcome, reason and URL (the port left out), and why."""
    print(
        f"\nThe crawl's decision log, one line per URL (crawls/*/decisions.jsonl.gz; the sites' port :{port} left out):"
    )
    for entry in _decisions(workspace):
        url = entry["url"].replace(f":{port}/", "/")
        why = ""
        if entry.get("robots_line"):
            why = f"robots.txt line {entry['robots_line_number']}: {entry['robots_line']}"
        elif entry["reason"] == "tdmrep:reserved" and entry.get("detail"):
            why = "tdmrep.json: " + entry["detail"].rpartition("tdmrep.json: ")[2]
        elif entry.get("optout"):
            why = "opted out: kept in the WARC, dropped at ingest, links not followed"
        elif entry.get("links_followed"):
            why = "links followed"
        print(
            f"  {entry['outcome']:<8} {entry['reason']:<18} {entry.get('kind', 'page'):<8} {url}  {why}".rstrip()
        )


def crawl_sites(workspace: Path, number: int) -> None:
    """The demo step: check the two opted-out sites, crawl the three, and show every decision of the crawl."""
    step(
        f"{number}. A live crawl by kiroku's own crawler: three invented sites on 127.0.0.1, robots.txt, TDMRep "
        "and noai honoured"
    )
    print(
        f"demo/data/crawl-sites.json, served now on 127.0.0.1 and told apart by the Host header: {OPEN}\n"
        f"(a cooking blog open to every crawler but for /drafts/; one post is marked noai), {ROBOTS} (a daily\n"
        f"whose robots.txt disallows AcmeBot and GPTBot) and {TDMREP} (a publisher reserving TDM rights by\n"
        "tdmrep.json for all but /press/). --resolve HOST:PORT:127.0.0.1 pins each name to this machine, as curl\n"
        "--resolve does. The crawl comes after acme-lm 2.0's training: its pages enter the catalog, not that model's\n"
        "training data."
    )
    with serve_sites() as port:
        pins = {host: ["--resolve", f"{host}:{port}:127.0.0.1"] for host in (OPEN, ROBOTS, TDMREP)}
        print(
            f"\nWhat {ROBOTS} tells crawlers, before crawling it: the robots.txt line that decides, per agent:"
        )
        run("optout", "check", f"http://{ROBOTS}:{port}/news/2026/11/28/shinsoba", "--agent", AGENT,
            "--agent", "GPTBot", "--agent", "CCBot", *pins[ROBOTS], cwd=workspace)  # fmt: skip
        print(f"\n{TDMREP}'s book pages: robots.txt allows every agent, but its tdmrep.json reserves them:")
        run("optout", "check", f"http://{TDMREP}:{port}/books/kurashi-no-daidokoro", "--agent", AGENT,
            "--agent", "GPTBot", *pins[TDMREP], cwd=workspace)  # fmt: skip
        print(
            f"\nThe crawl, obeying {AGENT} (the demo crawl's token): robots.txt fetched once per site before its\n"
            "first page, tdmrep.json before its first allowed page; written to WARC files in the workspace,\n"
            f"ingested into a new web_crawl source {SOURCE}, and recorded in the ledger (kind crawl.run):"
        )
        seeds = [f"http://{host}:{port}/" for host in (OPEN, ROBOTS, TDMREP)]
        run("crawl", *seeds, "--agent", AGENT, "--max-pages", "20", "--delay", "0", "--source", SOURCE,
            *(arg for pin in pins.values() for arg in pin),
            cwd=workspace)  # fmt: skip
    print_decisions(workspace, port)
