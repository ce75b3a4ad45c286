"""Benchmark of kiroku's crawler against a plain httpx fetch loop, on a loopback site of 20 hosts, in one run.

Input: a loopback server in a process of its own (a minimal asyncio HTTP/1.1 server answering from bytes built
in memory, or ``--server starlette``: a Starlette app under uvicorn) serving ``--hosts`` named hosts
(``site00.bench.test`` ... ``site19.bench.test``, told apart by the ``Host`` header, all on 127.0.0.1 at one port,
reached as ``curl --resolve`` reaches them) with ``--pages`` HTML pages each (100: 2,000 pages). Each page is
about 5 KB: a title, paragraphs of words drawn at random (the same every run), and 23 links: ten to its
"children" (page i links to pages 10i+1 ... 10i+10, modulo the pages of the host, so a breadth-first crawl from
``/`` finds every page by depth 2 at 100 pages), the home page twice, its neighbours, eight pages drawn at random
(one of them relative to ``/articles/``), and the same page of the next host. Each host has a permissive robots.txt
(rules for other agents and other paths, no ``Crawl-delay``) and no ``/.well-known/tdmrep.json`` (404). The server counts what it is asked for and the bytes it sends.

Measured, each run in a fresh (spawned) process so that its peak RSS (VmHWM) is its own:

- kiroku's crawler: ``Crawler(CrawlSettings(delay=0, max_pages=hosts*pages, max_depth=50, resolve=...))`` from
  the hosts' home pages, writing its WARC files and decision log to a temporary folder: everything it does in
  a real crawl (robots.txt and tdmrep.json first, each page decided by robots.txt, the page's opt-out signals
  read, links extracted and normalised, every exchange in the WARC and every decision in the log);
- the peer: a plain ``httpx.AsyncClient`` loop: one client (a pool of as many keep-alive connections as hosts)
  and one task per host (the crawler's concurrency: one worker, one request at a time per host), fetching the
  same pages from the known list and reading the bodies: no robots.txt, no parsing, nothing written;
- informative peers: the same loop with an ``httpx.AsyncClient`` of one connection for each host (httpcore's
  pool looks at every connection it holds for each request, so a client per host is the fastest httpx loop),
  and the loop that discovers the pages as a crawler must, parsing each page with resiliparse and following its
  links (a seen set, no robots.txt, nothing written);
- informative, once (``--skip-cli`` leaves it out): the whole ``kiroku crawl`` command in a fresh workspace
  (``kiroku init`` first, not timed): the crawl, the ingest of its WARC files into the catalog, the ``crawl.run``
  ledger record.

For each: pages/s on wall time, wall and CPU seconds of the client process, peak RSS, the requests and bytes the
server counted and its CPU seconds, the bytes the client wrote. Each measurement is repeated ``--repeat`` times,
interleaved; the table gives the best run (the highest pages/s) and the median pages/s. Every run is checked:
each page answered 200 exactly once, no other request (besides each host's robots.txt and tdmrep.json for the
crawler), the crawler's counts (2,000 pages fetched, nothing skipped, 20 robots.txt fetches), its WARC files (a
response record per request) and decision log (a line per URL).

Prints one table and the target: kiroku's crawler at >= 80% of the plain loop's pages/s (best runs compared).
Exits 1 if the target is missed or a run was wrong. ``--profile`` also profiles one crawl in this process
(cProfile) and prints where its time goes. ``--sniffio-shortcut`` makes httpcore's import of the missing sniffio
package fail at once in every client (see `sniffio_missing`).

    .venv/bin/python bench/crawl.py                       # 2,000 pages over 20 hosts, 3 repeats: about 3 minutes
    .venv/bin/python bench/crawl.py --repeat 3 --skip-cli --profile
    .venv/bin/python bench/crawl.py --hosts 50 --pages 400 --server starlette
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gzip
import http.client
import io
import json
import multiprocessing
import os
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from rich.console import Console
from rich.table import Table

from _machine import machine_description
from _processes import cpu_seconds, free_port

TARGET_SHARE = 0.80
AGENT = "KirokuBenchBot"
DOMAIN = "bench.test"
CONTROL = "/__bench__/"
HERE = Path(__file__).resolve()
_VOCABULARY = (
    "tea river train mountain harbour lantern paper garden temple market bridge season rain snow autumn spring "
    "summer winter festival station ticket window kettle bowl brush ink scroll poem story letter archive record "
    "ledger shelf library museum village city road field forest island coast wave stone moss bamboo pine maple "
    "cherry plum blossom lake cloud wind light shadow morning evening night moon star sun craft potter weaver "
    "carpenter cook fisher farmer merchant traveller teacher student reader writer painter singer"
)
WORDS = tuple(_VOCABULARY.split())
ROBOTS_TXT = (
    "# robots.txt of a bench site\n"
    "User-agent: *\n"
    "Disallow: /private/\n"
    "Disallow: /search\n"
    "Allow: /\n"
    "\n"
    "User-agent: ExampleBot\n"
    "Disallow: /\n"
    "\n"
    "Sitemap: /sitemap.xml\n"
)


# -- the site -------------------------------------------------------------------------------------------------


def host_name(number: int) -> str:
    """The name of bench host ``number`` (``site00.bench.test``)."""
    return f"site{number:02d}.{DOMAIN}"


def page_path(number: int) -> str:
    """The path of page ``number`` of a host: ``/`` for page 0, else ``/articles/0007.html``."""
    return "/" if number == 0 else f"/articles/{number:04d}.html"


def page_links(host: int, number: int, hosts: int, pages: int, port: int) -> list[str]:
    """The links of a page as written in it: ten children, home, neighbours, eight at random, the next host's."""
    rng = random.Random(f"links {host} {number}")
    targets = [n % pages for n in range(10 * number + 1, 10 * number + 11)]
    targets += [0, (number - 1) % pages, (number + 1) % pages, *(rng.randrange(pages) for _ in range(8))]
    links = [page_path(n) for n in targets]
    links[-1] = links[-1].removeprefix("/articles/")  # one relative link, resolved against /articles/...
    if number == 0:
        links[-1] = page_path(targets[-1])
    links.append(f"http://{host_name((host + 1) % hosts)}:{port}{page_path(number)}")
    return links


def page_html(host: int, number: int, hosts: int, pages: int, port: int) -> bytes:
    """Page ``number`` of ``host``: about 5 KB of HTML with its links."""
    rng = random.Random(f"page {host} {number}")
    title = " ".join(rng.choice(WORDS) for _ in range(5)).capitalize()
    paragraphs = "\n".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randrange(60, 100))).capitalize() + ".</p>"
        for _ in range(7)
    )
    anchors = "\n".join(
        f'<li><a href="{link}">{" ".join(rng.choice(WORDS) for _ in range(3))}</a></li>'
        for link in page_links(host, number, hosts, pages, port)
    )
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><link rel=stylesheet href=/style.css></head>\n"
        f'<body><header><nav><a href="/">home</a></nav></header>\n<main><h1>{title}</h1>\n{paragraphs}\n'
        f"<ul>\n{anchors}\n</ul></main>\n<footer>© {host_name(host)}</footer></body></html>\n"
    ).encode()


def site_answers(hosts: int, pages: int, port: int) -> dict[tuple[str, str], tuple[int, str, bytes]]:
    """Every ``(host, path)`` the server answers: ``(status, content type, body)``."""
    answers: dict[tuple[str, str], tuple[int, str, bytes]] = {}
    for host in range(hosts):
        name = host_name(host)
        answers[(name, "/robots.txt")] = (200, "text/plain", ROBOTS_TXT.encode())
        for number in range(pages):
            answers[(name, page_path(number))] = (
                200,
                "text/html; charset=utf-8",
                page_html(host, number, hosts, pages, port),
            )
    return answers


# -- the servers (a process of their own) ---------------------------------------------------------------------


class _Counts:
    """What the server was asked for, and the bytes it sent, since the last ``stats``."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.bytes = 0

    def take(self) -> bytes:
        body = json.dumps({"requests": dict(self.requests), "bytes": self.bytes}).encode()
        self.requests.clear()
        self.bytes = 0
        return body


def _answer_bytes(status: int, content_type: str, body: bytes) -> bytes:
    reason = {200: "OK", 404: "Not Found"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\nServer: kiroku-bench\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def serve_raw(port: int, hosts: int, pages: int) -> None:
    """A minimal keep-alive HTTP/1.1 server on asyncio: whole answers prebuilt as bytes, one write each."""
    answers = {key: _answer_bytes(*value) for key, value in site_answers(hosts, pages, port).items()}
    missing = _answer_bytes(404, "text/plain", b"not found\n")
    counts = _Counts()

    class Http(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, asyncio.Transport)
            self.transport = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while True:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
                lines = head.decode("latin-1").split("\r\n")
                target = lines[0].split(" ")[1]
                host, close = "", False
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    name = name.strip().lower()
                    if name == "host":
                        host = value.strip().lower().rsplit(":", 1)[0]
                    elif name == "connection":
                        close = value.strip().lower() == "close"
                if target.startswith(CONTROL):
                    body = counts.take() if target == CONTROL + "stats" else b"ok"
                    self.transport.write(_answer_bytes(200, "application/json", body))
                else:
                    answer = answers.get((host, target), missing)
                    counts.requests[f"{host} {target}"] += 1
                    counts.bytes += len(answer)
                    self.transport.write(answer)
                if close:
                    self.transport.close()
                    return

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Http, "127.0.0.1", port, backlog=512)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def serve_starlette(port: int, hosts: int, pages: int) -> None:
    """The same site as a Starlette app under uvicorn (h11, one worker)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    answers = site_answers(hosts, pages, port)
    counts = _Counts()

    async def answer(request: Request) -> Response:
        path = request.url.path
        if path.startswith(CONTROL):
            return Response(
                counts.take() if path == CONTROL + "stats" else b"ok", media_type="application/json"
            )
        host = request.headers.get("host", "").lower().rsplit(":", 1)[0]
        status, content_type, body = answers.get((host, path), (404, "text/plain", b"not found\n"))
        counts.requests[f"{host} {path}"] += 1
        counts.bytes += len(body) + 120  # about the size of uvicorn's status line and headers
        return Response(body, status_code=status, media_type=content_type)

    app = Starlette(routes=[Route("/{path:path}", answer)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@dataclass
class Server:
    """The loopback server process."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def cpu_seconds(self) -> float:
        """User and system CPU time of the server process so far."""
        return cpu_seconds(self.process.pid)

    def control(self, what: str) -> bytes:
        """GET ``/__bench__/<what>`` (``ping``; ``stats``: the counts since the last call, then reset)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", CONTROL + what, headers={"Connection": "close"})
            return connection.getresponse().read()
        finally:
            connection.close()

    def stats(self) -> tuple[Counter[str], int]:
        """The requests (``"host path"``: count) and bytes sent since the last call."""
        data = json.loads(self.control("stats"))
        return Counter(data["requests"]), int(data["bytes"])


@contextmanager
def server(kind: str, hosts: int, pages: int, work: Path) -> Iterator[Server]:
    """Run ``bench/crawl.py serve-KIND PORT HOSTS PAGES`` until it answers; stop it after."""
    port = free_port()
    log = work / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(HERE), f"serve-{kind}", str(port), str(hosts), str(pages)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Server(process, port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                running.control("ping")
                break
            except OSError:
                time.sleep(0.1)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the clients (each run in a fresh process) ----------------------------------------------------------------


@dataclass
class Measurement:
    """One run of one client."""

    client: str
    pages: int
    seconds: float
    cpu: float
    peak_rss: int
    written: int = 0
    """Bytes the client wrote (WARC files and decision log)."""
    server_cpu: float = 0.0
    requests: int = 0
    sent: int = 0
    """Bytes the server sent (status lines, headers and bodies)."""
    problems: list[str] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Job:
    """What a client is asked to do."""

    port: int
    hosts: int
    pages: int
    folder: str
    sniffio_shortcut: bool = False


SNIFFIO_SHORTCUT = "import sys; sys.modules['sniffio'] = None"


def sniffio_missing() -> bool:
    """Whether sniffio is not installed: httpcore then tries to import it for every lock it sets up (about
    ten times a request) and Python does not remember a failed import (encode/httpcore#1103)."""
    import importlib.util

    return importlib.util.find_spec("sniffio") is None


def apply_sniffio_shortcut(job: Job) -> None:
    """With ``--sniffio-shortcut`` and sniffio missing, make ``import sniffio`` fail at once in this process."""
    if job.sniffio_shortcut and sniffio_missing():
        sys.modules["sniffio"] = None  # type: ignore[assignment]  # a None entry ends the import search


def peak_rss_bytes() -> int:
    """Peak RSS of this process: Linux's VmHWM, which starts afresh in a spawned process; else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _resolve(job: Job) -> tuple[tuple[str, int, str], ...]:
    return tuple((host_name(h), job.port, "127.0.0.1") for h in range(job.hosts))


def crawl_settings(job: Job) -> Any:
    """kiroku's `CrawlSettings` for the bench site: delay 0, every page, every host."""
    from kiroku.crawl import CrawlSettings, Scope

    seeds = tuple(f"http://{host_name(h)}:{job.port}/" for h in range(job.hosts))
    return CrawlSettings(
        agent=AGENT,
        seeds=seeds,
        scope=Scope.create(seeds, max_depth=50),
        max_pages=job.hosts * job.pages,
        delay=0.0,
        resolve=_resolve(job),
        operator="kiroku bench",
    )


def run_kiroku(job: Job) -> Callable[[], tuple[int, dict[str, Any]]]:
    """kiroku's crawler, writing into ``job.folder``; returns the pages fetched and the crawl's counts."""
    from kiroku.crawl import Crawler, new_crawl_id

    settings = crawl_settings(job)

    def run() -> tuple[int, dict[str, Any]]:
        crawl_id = new_crawl_id()
        result = asyncio.run(Crawler(settings, Path(job.folder) / crawl_id, crawl_id).run())
        return result.pages_fetched, {
            "skips": result.skips,
            "robots_fetches": result.robots_fetches,
            "hosts": len(result.hosts),
            "warc_files": [str(p) for p in result.warc_files],
            "decision_log": str(result.decision_log),
        }

    return run


def _plain_client(job: Job) -> Any:
    import httpx

    limits = httpx.Limits(max_connections=job.hosts, max_keepalive_connections=job.hosts)
    return httpx.AsyncClient(limits=limits, timeout=10.0, follow_redirects=False)


def run_plain(job: Job, *, client_per_host: bool = False) -> Callable[[], tuple[int, dict[str, Any]]]:
    """The peer: one task per host fetching its known pages in turn, bodies read, nothing else; one client
    for all hosts, or (``client_per_host``) a client of one connection for each."""
    import httpx

    base = f"http://127.0.0.1:{job.port}"

    async def host_loop(http: httpx.AsyncClient, host: int, statuses: Counter[int]) -> int:
        body_bytes = 0
        headers = {"Host": f"{host_name(host)}:{job.port}"}
        for number in range(job.pages):
            response = await http.get(base + page_path(number), headers=headers)
            statuses[response.status_code] += 1
            body_bytes += len(response.content)
        return body_bytes

    async def own_client(host: int, statuses: Counter[int]) -> int:
        async with _plain_client(replace(job, hosts=1)) as http:
            return await host_loop(http, host, statuses)

    async def crawl() -> tuple[int, dict[str, Any]]:
        statuses: Counter[int] = Counter()
        if client_per_host:
            sizes = await asyncio.gather(*(own_client(h, statuses) for h in range(job.hosts)))
        else:
            async with _plain_client(job) as http:
                sizes = await asyncio.gather(*(host_loop(http, h, statuses) for h in range(job.hosts)))
        return statuses[200], {"statuses": dict(statuses), "body_bytes": sum(sizes)}

    return lambda: asyncio.run(crawl())


def run_plain_per_host(job: Job) -> Callable[[], tuple[int, dict[str, Any]]]:
    """The informative peer: the plain loop with an ``httpx.AsyncClient`` of one connection per host."""
    return run_plain(job, client_per_host=True)


def run_parsing(job: Job) -> Callable[[], tuple[int, dict[str, Any]]]:
    """The second peer: the plain loop discovering pages from the home pages by parsing links (resiliparse)."""
    from resiliparse.parse.html import HTMLTree

    base = f"http://127.0.0.1:{job.port}"

    async def crawl() -> tuple[int, dict[str, Any]]:
        statuses: Counter[int] = Counter()
        names = {host_name(h): h for h in range(job.hosts)}
        queues: list[asyncio.Queue[str]] = [asyncio.Queue() for _ in range(job.hosts)]
        seen: set[str] = set()
        pending = 0
        idle = asyncio.Event()

        def add(url: str) -> None:
            nonlocal pending
            url = url.partition("#")[0]
            parts = urlsplit(url)
            host = names.get(parts.hostname or "")
            if host is None or url in seen:
                return
            seen.add(url)
            pending += 1
            queues[host].put_nowait(url)

        async with _plain_client(job) as http:

            async def host_loop(host: int) -> None:
                nonlocal pending
                headers = {"Host": f"{host_name(host)}:{job.port}"}
                while True:
                    url = await queues[host].get()
                    parts = urlsplit(url)
                    response = await http.get(base + (parts.path or "/"), headers=headers)
                    statuses[response.status_code] += 1
                    tree = HTMLTree.parse_from_bytes(response.content, "utf-8")
                    if tree.document is not None:
                        # values(): iterating the collection itself is quadratic in its length
                        for element in tree.document.query_selector_all("a[href]").values():
                            add(urljoin(url, element.getattr("href") or ""))
                    pending -= 1
                    if pending == 0:
                        idle.set()

            for host in range(job.hosts):
                add(f"http://{host_name(host)}:{job.port}/")
            workers = [asyncio.create_task(host_loop(h)) for h in range(job.hosts)]
            await idle.wait()
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return statuses[200], {"statuses": dict(statuses), "discovered": len(seen)}

    return lambda: asyncio.run(crawl())


CLIENTS: dict[str, Callable[[Job], Callable[[], tuple[int, dict[str, Any]]]]] = {
    "kiroku crawler": run_kiroku,
    "peer: plain httpx loop": run_plain,
    "peer: httpx loop, one client per host": run_plain_per_host,
    "peer: httpx loop + link parsing": run_parsing,
}


def worker(client: str, job: Job, pipe: Pipe) -> None:
    """Run one client in this (fresh) process and send back (pages, seconds, CPU, peak RSS, details)."""
    apply_sniffio_shortcut(job)
    run = CLIENTS[client](job)
    cpu_start, start = time.process_time(), time.perf_counter()
    pages, details = run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    pipe.send((pages, seconds, cpu, peak_rss_bytes(), details))
    pipe.close()


def measure(client: str, running: Server, job: Job) -> Measurement:
    """One run of ``client`` in a fresh process, checked against what the server counted."""
    running.stats()  # reset the counts
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=worker, args=(client, job, sender))
    server_cpu = running.cpu_seconds()
    process.start()
    sender.close()
    try:
        pages, seconds, cpu, peak, details = receiver.recv()
    except EOFError:
        process.join()
        raise SystemExit(f"the {client} run failed (exit code {process.exitcode})") from None
    process.join()
    server_cpu = (
        running.cpu_seconds() - server_cpu
    )  # includes the client process's start-up: the server idles
    requests, sent = running.stats()
    found = Measurement(client, pages, seconds, cpu, peak, server_cpu=server_cpu, requests=requests.total(),
                        sent=sent)  # fmt: skip
    check(found, job, requests, details)
    return found


def check(found: Measurement, job: Job, requests: Counter[str], details: dict[str, Any]) -> None:
    """Record in ``found.problems`` everything that differs from a complete, polite crawl of the site."""
    problems = found.problems
    total = job.hosts * job.pages
    expected = Counter(f"{host_name(h)} {page_path(n)}" for h in range(job.hosts) for n in range(job.pages))
    crawler = found.client.startswith("kiroku")
    if crawler:
        for h in range(job.hosts):
            expected[f"{host_name(h)} /robots.txt"] += 1
            expected[f"{host_name(h)} /.well-known/tdmrep.json"] += 1
    if requests != expected:
        extra = requests - expected
        missing = expected - requests
        problems.append(
            f"server saw {requests.total():,} requests for {expected.total():,} expected; "
            f"missing {sorted(missing)[:3]}, extra or repeated {sorted(extra)[:3]}"
        )
    if found.pages != total:
        problems.append(f"{found.pages:,} pages fetched for {total:,}")
    if not crawler:
        return
    if details["skips"]:
        problems.append(f"skipped: {details['skips']}")
    if details["robots_fetches"] != job.hosts or details["hosts"] != job.hosts:
        problems.append(f"{details['robots_fetches']} robots.txt fetches over {details['hosts']} hosts")
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    responses = 0
    for path in details["warc_files"]:
        found.written += Path(path).stat().st_size
        with open(path, "rb") as handle:
            for _ in ArchiveIterator(handle, record_types=WarcRecordType.response):
                responses += 1
    if responses != expected.total():
        problems.append(f"{responses:,} WARC response records for {expected.total():,} requests")
    log = Path(details["decision_log"])
    found.written += log.stat().st_size
    with gzip.open(log, "rt", encoding="utf-8") as handle:
        decisions = [json.loads(line) for line in handle]
    fetched = [d for d in decisions if d["outcome"] == "fetched"]
    if len(decisions) != expected.total() or len(fetched) != len(decisions):
        problems.append(f"decision log: {len(decisions):,} lines, {len(fetched):,} fetched")


def measure_cli(running: Server, job: Job, work: Path) -> Measurement:
    """The whole ``kiroku crawl`` command in a fresh workspace (crawl, ingest, ledger record), once."""
    root = work / "workspace"
    kiroku = [sys.executable, "-m", "kiroku"]
    if job.sniffio_shortcut and sniffio_missing():
        kiroku = [
            sys.executable,
            "-c",
            f"{SNIFFIO_SHORTCUT}; import runpy; runpy.run_module('kiroku', run_name='__main__')",
        ]
    subprocess.run([*kiroku, "init", str(root), "--org", "kiroku bench", "--origin", "bench.test/kiroku"],
                   check=True, capture_output=True)  # fmt: skip
    settings = crawl_settings(job)
    command = [*kiroku, "crawl", *settings.seeds, "--agent", AGENT, "--max-pages", str(settings.max_pages),
               "--max-depth", "50", "--delay", "0", "--workspace", str(root)]  # fmt: skip
    for host, port, address in settings.resolve:
        command += ["--resolve", f"{host}:{port}:{address}"]
    running.stats()
    server_cpu = running.cpu_seconds()
    log = work / "cli.log"
    start = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=work)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    server_cpu = running.cpu_seconds() - server_cpu
    requests, sent = running.stats()
    if process.returncode != 0:
        raise SystemExit(f"kiroku crawl failed:\n{log.read_text(errors='replace')[-3000:]}")
    record = json.loads(next((root / "crawls").glob("*/crawl.json")).read_text())
    found = Measurement(
        "kiroku crawl (CLI: + ingest, ledger)",
        int(record["pages_fetched"]),
        seconds,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss * 1024,
        written=sum(path.stat().st_size for path in (root / "crawls").rglob("*") if path.is_file()),
        server_cpu=server_cpu,
        requests=requests.total(),
        sent=sent,
    )
    details = {
        "skips": record["skips"],
        "robots_fetches": record["robots_fetches"],
        "hosts": len(record["hosts"]),
        "warc_files": [str(root / f["path"]) for f in record["warc_files"]],
        "decision_log": str(root / record["decision_log"]["path"]),
    }
    check(found, job, requests, details)
    output = log.read_text(errors="replace")
    if "Recorded crawl.run" not in output:
        found.problems.append("no crawl.run record reported")
    return found


def profile_crawl(running: Server, job: Job, folder: Path, lines: int) -> str:
    """cProfile of one crawl in this process; the top of the report by own time and by cumulative time."""
    apply_sniffio_shortcut(job)
    run = run_kiroku(replace(job, folder=str(folder)))
    profiler = cProfile.Profile()
    running.stats()
    profiler.enable()
    run()
    profiler.disable()
    running.stats()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


# -- the report -----------------------------------------------------------------------------------------------


def best_of(runs: list[Measurement]) -> Measurement:
    """The run with the highest pages/s."""
    return max(runs, key=lambda m: m.per_s)


def build_table(results: dict[str, list[Measurement]], peer: float, args: argparse.Namespace) -> Table:
    table = Table(
        title=f"crawling {args.hosts * args.pages:,} pages over {args.hosts} loopback hosts · delay 0 · "
        f"best of {args.repeat} runs (median pages/s beside it) · server: {args.server}",
    )
    columns = (("client", "left"), ("pages/s best", "right"), ("median", "right"), ("wall s", "right"),
               ("client CPU s", "right"), ("CPU ms/page", "right"), ("peak RSS", "right"),
               ("server CPU s", "right"), ("requests", "right"), ("MB sent", "right"),
               ("MB written", "right"), ("vs plain loop", "right"), ("checked", "left"))  # fmt: skip
    for name, justify in columns:
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for client, runs in results.items():
        best = best_of(runs)
        median = statistics.median(m.per_s for m in runs)
        problems = sum(len(m.problems) for m in runs)
        table.add_row(
            client, f"{best.per_s:,.0f}", f"{median:,.0f}" if len(runs) > 1 else "", f"{best.seconds:.2f}",
            f"{best.cpu:.2f}", f"{best.cpu / best.pages * 1e3:.2f}" if best.pages else "",
            f"{best.peak_rss / 2**20:,.0f} MiB", f"{best.server_cpu:.2f}", f"{best.requests:,}",
            f"{best.sent / 1e6:.1f}", f"{best.written / 1e6:.1f}" if best.written else "",
            f"{best.per_s / peer:.0%}" if peer else "",
            "[green]ok[/]" if not problems else f"[red]{problems} wrong[/]",
        )  # fmt: skip
    return table


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--hosts", type=int, default=20, help="hosts of the loopback site (20)")
    parser.add_argument("--pages", type=int, default=100, help="pages per host (100)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each client, interleaved (3)")
    parser.add_argument(
        "--server", choices=("raw", "starlette"), default="raw",
        help="the loopback server: 'raw', asyncio answering prebuilt bytes (default), or 'starlette' under uvicorn",
    )  # fmt: skip
    parser.add_argument(
        "--sniffio-shortcut", action="store_true",
        help="when sniffio is not installed, make httpcore's `import sniffio` fail at once in every client (kiroku "
        "and peers alike), as installing sniffio or httpcore's pending fix would",
    )  # fmt: skip
    parser.add_argument("--skip-cli", action="store_true", help="leave out the whole `kiroku crawl` row")
    parser.add_argument(
        "--profile", action="store_true", help="also profile one crawl in this process (cProfile)"
    )
    parser.add_argument(
        "--profile-lines", type=int, default=30, help="functions listed per profile order (30)"
    )
    args = parser.parse_args(argv)
    if args.hosts < 1 or args.hosts > 100 or args.pages < 1 or args.pages > 9999 or args.repeat < 1:
        parser.error("need 1 <= --hosts <= 100, 1 <= --pages <= 9999 and --repeat >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 200))
    started = time.perf_counter()
    packages: tuple[str, ...] = ("httpx", "httpcore", "h11", "h2", "warcio", "resiliparse", "robotspy")
    if args.server == "starlette":
        packages += ("starlette", "uvicorn")
    sniffio = "sniffio not installed" if sniffio_missing() else "sniffio installed"
    if args.sniffio_shortcut and sniffio_missing():
        sniffio += " (its import short-circuited in the clients)"
    console.print(f"[bold]machine:[/] {machine_description(packages, [sniffio])}")
    work = Path(tempfile.mkdtemp(prefix="kiroku-bench-crawl-"))
    results: dict[str, list[Measurement]] = {client: [] for client in CLIENTS}
    profile = ""
    try:
        with server(args.server, args.hosts, args.pages, work) as running:
            job = Job(running.port, args.hosts, args.pages, "", args.sniffio_shortcut)
            sizes = [len(page_html(h, n, args.hosts, args.pages, job.port)) for h in range(args.hosts)
                     for n in range(args.pages)]  # fmt: skip
            console.print(
                f"site: {len(sizes):,} pages, {sum(sizes) / 1e6:.1f} MB of HTML ({min(sizes):,} to "
                f"{max(sizes):,} bytes a page), {args.hosts} robots.txt, tdmrep.json 404"
            )
            for repeat in range(args.repeat):
                for client in CLIENTS:
                    folder = work / f"run-{repeat}-{len(results[client])}"
                    folder.mkdir()
                    found = measure(client, running, replace(job, folder=str(folder)))
                    results[client].append(found)
                    shutil.rmtree(folder, ignore_errors=True)
                    console.print(
                        f"  run {repeat + 1}/{args.repeat} · {client}: {found.per_s:,.0f} pages/s, "
                        f"{found.seconds:.2f} s"
                        + (f" · [red]{'; '.join(found.problems)}[/]" if found.problems else "")
                    )
            if not args.skip_cli:
                console.print("  the whole `kiroku crawl` command in a fresh workspace …")
                (work / "cli").mkdir()
                cli = measure_cli(running, job, work / "cli")
                results[cli.client] = [cli]
                console.print(f"  {cli.client}: {cli.per_s:,.0f} pages/s, {cli.seconds:.2f} s")
            if args.profile:
                profile = profile_crawl(running, job, work / "profile", args.profile_lines)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peer = best_of(results["peer: plain httpx loop"]).per_s
    console.print(build_table(results, peer, args))
    kiroku = best_of(results["kiroku crawler"]).per_s
    share_ok = kiroku >= TARGET_SHARE * peer
    wrong = [(c, p) for c, runs in results.items() for m in runs for p in m.problems]
    console.print(
        f"target kiroku's crawler ≥ {TARGET_SHARE:.0%} of the plain httpx loop's pages/s: "
        f"{kiroku:,.0f} / {peer:,.0f} = {kiroku / peer:.0%}: "
        + ("[green]met[/]" if share_ok else "[red]not met[/]")
    )
    console.print(
        "every run complete and checked (each page once, robots.txt and tdmrep.json once a host, WARC and "
        "decision log): " + ("[green]met[/]" if not wrong else f"[red]not met[/]: {wrong[:5]}")
    )
    if profile:
        console.print(profile, markup=False, highlight=False)
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    console.print(f"benchmark wall time {time.perf_counter() - started:.0f} s · load average now {load}")
    return 0 if share_ok and not wrong else 1


ROLES: dict[str, Callable[..., None]] = {
    "serve-raw": lambda port, hosts, pages: serve_raw(int(port), int(hosts), int(pages)),
    "serve-starlette": lambda port, hosts, pages: serve_starlette(int(port), int(hosts), int(pages)),
}

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ROLES:
        ROLES[sys.argv[1]](*sys.argv[2:])
        raise SystemExit(0)
    raise SystemExit(main())
