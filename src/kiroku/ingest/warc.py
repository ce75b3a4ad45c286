"""WARC web archives (plain or gzip, per-record members): HTTP 200 text responses as documents.

Records are read with FastWARC; HTML bodies become text with Resiliparse's main-content extraction, plain-text
bodies are kept as they are. A document's position is the ordinal of its WARC record in the file (0-based,
counting every record), so an ingest resumes by skipping the records before it.

Each file is read twice. The first pass reads only the records of ``/robots.txt`` and
``/.well-known/tdmrep.json`` responses (any status), and the crawler's ``http-header-user-agent`` from the
warcinfo record, into `kiroku.optout.sites.SiteSignals`; robots files given separately (``robots=``, e.g.
Common Crawl's robots.txt WARCs) are read once and shared by every file. The second pass turns responses into
documents, each with the opt-out reasons `kiroku.optout.policy.OptoutEvaluator` finds for it. The first pass
reads the whole file even when the second resumes in the middle, so a resumed ingest decides as a fresh one.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastwarc.warc import ArchiveIterator, HeaderMap, WarcRecord, WarcRecordType
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding
from resiliparse.parse.html import HTMLTree
from resiliparse.parse.http import iterate_http_chunks

from kiroku.catalog.shards import Document
from kiroku.ingest._errors import IngestError
from kiroku.optout.policy import OptoutEvaluator, crawler_token
from kiroku.optout.sites import SiteSignals, site_file_of
from kiroku.optout.tags import DEFAULT_POLICY, OptoutPolicy, meta_tags

__all__ = ["WarcReader", "WarcSummary", "read_warc"]

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"text/plain"})
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]+[ \t]*(;[^\r\n]*)?\r\n")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^\s;"']+)""", re.IGNORECASE)
_NO_DATE = datetime.min.replace(tzinfo=UTC)


def _dechunk(body: bytes) -> bytes:
    """Undo chunked transfer coding; archives often store the body already dechunked, kept as it is then."""
    if not _CHUNK_SIZE.match(body):
        return body
    try:
        dechunked = b"".join(iterate_http_chunks(io.BytesIO(body)))
    except (OSError, ValueError):
        return body
    return dechunked or body


def _decompress(body: bytes, coding: str) -> bytes | None:
    """Undo gzip/deflate content coding; None when the coding is unknown or the body does not decode."""
    coding = coding.strip().lower()
    if coding in ("", "identity"):
        return body
    if coding in ("gzip", "x-gzip", "deflate"):
        for wbits in (47, -15):  # gzip or zlib by header; raw deflate
            try:
                return zlib.decompress(body, wbits)
            except zlib.error:
                continue
        return body if body.lstrip()[:1] == b"<" else None  # stored decoded despite the header
    return None


def _payload(http: HeaderMap, body: bytes) -> bytes | None:
    """The response body with transfer and content codings undone; None when the content coding cannot be."""
    if "chunked" in (http.get("Transfer-Encoding") or "").lower():
        body = _dechunk(body)
    return _decompress(body, http.get("Content-Encoding") or "")


def _to_text(body: bytes, content_type: str) -> str:
    match = _CHARSET.search(content_type)
    encoding = match.group(1) if match else detect_encoding(body)
    return bytes_to_str(body, encoding or "utf-8")


def _fetch_time(record: WarcRecord) -> datetime | None:
    fetch_time = record.record_date
    if fetch_time is None:
        return None
    if fetch_time.tzinfo is None:
        fetch_time = fetch_time.replace(tzinfo=UTC)
    return fetch_time.astimezone(UTC)


def _records(path: Path) -> Iterator[tuple[int, int, WarcRecord]]:
    """Yield ``(ordinal, byte offset, record)`` for every record; unreadable input is an `IngestError` naming
    the file and the offset (of the compressed file, for .warc.gz)."""
    position, offset = -1, 0
    try:
        with path.open("rb") as handle:
            for position, record in enumerate(ArchiveIterator(handle, parse_http=False)):
                offset = record.stream_pos
                yield position, offset, record
    except (OSError, ValueError, EOFError) as exc:
        where = (
            f"record {position + 1} after the record at byte {offset}"
            if position >= 0
            else "record 0 at byte 0"
        )
        raise IngestError(f"{path}: cannot read {where}: {exc}") from exc


def _block(path: Path, position: int, offset: int, record: WarcRecord, *, read: bool = True) -> bytes:
    """The record's whole block (or, with ``read=False``, skip it), checking that none of it is missing."""
    try:
        if read:
            block = record.reader.read()
            size = len(block)
        else:
            block, size = b"", record.consume()
    except (OSError, ValueError, EOFError) as exc:
        raise IngestError(f"{path}: record {position} at byte {offset}: cannot read: {exc}") from exc
    if size != record.content_length:
        raise IngestError(
            f"{path}: record {position} at byte {offset}: truncated ({size} of {record.content_length} bytes)"
        )
    return block


def _user_agent(warcinfo: bytes) -> str | None:
    """The ``http-header-user-agent`` field of a warcinfo record's ``application/warc-fields`` block."""
    for line in warcinfo.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "http-header-user-agent" and value.strip():
            return value.strip()
    return None


def _scan_site_files(path: Path, site: SiteSignals) -> str | None:
    """First pass: add the file's robots.txt and tdmrep.json captures to ``site``; return the crawler's
    User-Agent from the first warcinfo record that names it."""
    user_agent = None
    for position, offset, record in _records(path):
        if record.record_type == WarcRecordType.warcinfo:
            if user_agent is None:
                user_agent = _user_agent(_block(path, position, offset, record))
            continue
        if record.record_type != WarcRecordType.response or not record.is_http:
            continue
        url = record.headers.get("WARC-Target-URI") or ""
        kind = site_file_of(url)
        if kind is None:
            continue
        block = _block(path, position, offset, record)
        http = HeaderMap()
        try:
            head = http.parse(io.BytesIO(block))
            body = _payload(http, block[head:])
        except (OSError, ValueError) as exc:
            raise IngestError(
                f"{path}: record {position} at byte {offset}: bad HTTP response: {exc}"
            ) from exc
        when, status = _fetch_time(record) or _NO_DATE, http.status_code
        if status is None:
            site.note_ignored(url, when, "no HTTP status line; capture ignored")
        elif body is None:
            coding = http.get("Content-Encoding")
            site.note_ignored(url, when, f"content coding {coding!r} cannot be undone; capture ignored")
        elif kind == "robots":
            site.add_robots(url, when, status, body, http.get("Location"))
        else:
            site.add_tdmrep(url, when, status, body)
    return user_agent


def _document(record: WarcRecord, block: bytes, position: int, evaluator: OptoutEvaluator) -> Document | None:
    """The document in one response record's block (HTTP head and body), or None if it holds no text.

    robots.txt and tdmrep.json are the site's instructions to crawlers, read in the first pass, not documents.
    """
    url = record.headers.get("WARC-Target-URI")
    if url and site_file_of(url) is not None:
        return None
    http = HeaderMap()
    head = http.parse(io.BytesIO(block))
    if http.status_code != 200:
        return None
    content_type = http.get("Content-Type") or ""
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime not in _HTML_TYPES and mime not in _TEXT_TYPES:
        return None
    body = _payload(http, block[head:])
    if body is None:
        return None
    text = _to_text(body, content_type)
    metas: list[tuple[str, str]] = []
    if mime in _HTML_TYPES:
        tree = HTMLTree.parse(text)  # parsed once, for the meta tags and for the text
        metas = meta_tags(tree)
        text = extract_plain_text(tree, main_content=True)
    if not text.strip():
        return None
    fetch_time = _fetch_time(record)
    verdict = evaluator.verdict(url, fetch_time, list(http.items()), metas)
    return Document(
        text=text,
        url=url,
        external_id=record.record_id,
        fetch_time=fetch_time,
        optout=verdict.reasons,
        kept=verdict.kept,
        input_line=position,
    )


@dataclass(frozen=True)
class WarcSummary:
    """What the first pass over one WARC file found: the crawler's agent and the site-wide files captured."""

    path: Path
    crawler_agent: str | None
    agent_from: str
    """Where the crawler's agent came from: ``"kiroku.toml"``, ``"warcinfo"``, or ``""`` (nowhere)."""
    robots_origins: int
    tdmrep_origins: int
    ignored: tuple[str, ...]
    """One line per capture left out (a malformed tdmrep.json, an undecodable body), as a crawler would."""


class WarcReader:
    """Reads WARC files into documents with their opt-out reasons; an ingest ``reader`` (see `ingest_files`).

    ``optout`` is the policy and the AI-training agents asked about; ``robots`` are WARC files of robots.txt
    (and tdmrep.json) captures kept apart from the pages, read once; ``crawler_agent`` is the crawler's product
    token (else the warcinfo record's ``http-header-user-agent`` names it). After a file has been read,
    ``summaries[path]`` says what its first pass found.
    """

    def __init__(
        self,
        *,
        optout: OptoutPolicy = DEFAULT_POLICY,
        robots: Sequence[Path] = (),
        crawler_agent: str | None = None,
    ) -> None:
        for path in robots:
            if not path.is_file():
                raise IngestError(f"{path}: no such robots WARC file")
        self.optout = optout
        self.robots = tuple(robots)
        self.crawler_agent = crawler_agent
        self.summaries: dict[Path, WarcSummary] = {}
        self._robots_site: SiteSignals | None = None

    def _shared_site(self) -> SiteSignals | None:
        if self.robots and self._robots_site is None:
            site = SiteSignals(unreadable_tdmrep=self.optout.unreadable_tdmrep)
            for path in self.robots:
                _scan_site_files(path, site)
            self._robots_site = site
        return self._robots_site

    def crawler_agent_for(self, path: Path) -> str | None:
        """The crawler product token ``path``'s opt-outs are evaluated for; None before it is read or when
        neither kiroku.toml nor its warcinfo names one."""
        summary = self.summaries.get(path)
        return summary.crawler_agent if summary else None

    def __call__(self, path: Path, start: int = 0) -> Iterator[tuple[int, Document]]:
        """Yield ``(record ordinal, document)`` for each HTTP 200 HTML or plain-text response from record
        ``start`` on.

        Raises `IngestError` naming the file and the byte offset (of the compressed file, for .warc.gz) of a
        record that cannot be read: a file that is not WARC, a truncated file, a corrupt record.
        """
        base = self._shared_site()
        site = SiteSignals(base=base, unreadable_tdmrep=self.optout.unreadable_tdmrep)
        user_agent = _scan_site_files(path, site)
        agent, agent_from = self.crawler_agent, "kiroku.toml" if self.crawler_agent else ""
        if agent is None and user_agent is not None:
            agent = crawler_token(user_agent)
            agent_from = "warcinfo" if agent else ""
        ignored = tuple(site.ignored) + (tuple(base.ignored) if base else ())
        self.summaries[path] = WarcSummary(
            path, agent, agent_from, site.robots_origins, site.tdmrep_origins, ignored
        )
        evaluator = OptoutEvaluator(self.optout, site, agent)
        for position, offset, record in _records(path):
            if position < start:
                continue  # FastWARC skips the unread block itself
            is_response = record.record_type == WarcRecordType.response
            block = _block(path, position, offset, record, read=is_response)
            if not is_response or not record.is_http:
                continue
            try:
                doc = _document(record, block, position, evaluator)
            except (OSError, ValueError) as exc:
                raise IngestError(
                    f"{path}: record {position} at byte {offset}: bad HTTP response: {exc}"
                ) from exc
            if doc is not None:
                yield position, doc


def read_warc(
    path: Path,
    start: int = 0,
    *,
    optout: OptoutPolicy = DEFAULT_POLICY,
    robots: Sequence[Path] = (),
    crawler_agent: str | None = None,
) -> Iterator[tuple[int, Document]]:
    """Yield ``(record ordinal, document)`` for each HTTP 200 HTML or plain-text response from record ``start``.

    Opt-out signals (`kiroku.optout.policy`) are kept with each document: robots.txt and tdmrep.json captured
    in this file or in the ``robots`` WARC files, the response's headers and meta tags; under the ``drop``
    policy such a document is not in the kept set. See `WarcReader` for the arguments.
    """
    yield from WarcReader(optout=optout, robots=robots, crawler_agent=crawler_agent)(path, start)
