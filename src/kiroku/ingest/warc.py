"""WARC web archives (plain or gzip, per-record members): HTTP 200 text responses as documents.

Records are read with FastWARC; HTML bodies become text with Resiliparse's main-content extraction, plain-text
bodies are kept as they are. A document's position is the ordinal of its WARC record in the file (0-based,
counting every record), so an ingest resumes by skipping the records before it.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

from fastwarc.warc import ArchiveIterator, HeaderMap, WarcRecord, WarcRecordType
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding
from resiliparse.parse.http import iterate_http_chunks

from kiroku.catalog.shards import Document
from kiroku.ingest._errors import IngestError
from kiroku.optout.tags import DEFAULT_POLICY, OptoutPolicy, header_signals, html_signals

__all__ = ["read_warc"]

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"text/plain"})
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]+[ \t]*(;[^\r\n]*)?\r\n")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^\s;"']+)""", re.IGNORECASE)


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


def _to_text(body: bytes, content_type: str) -> str:
    match = _CHARSET.search(content_type)
    encoding = match.group(1) if match else detect_encoding(body)
    return bytes_to_str(body, encoding or "utf-8")


def _document(record: WarcRecord, block: bytes, position: int, policy: OptoutPolicy) -> Document | None:
    """The document in one response record's block (HTTP head and body), or None if it holds no text."""
    http = HeaderMap()
    head = http.parse(io.BytesIO(block))
    if http.status_code != 200:
        return None
    content_type = http.get("Content-Type") or ""
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime not in _HTML_TYPES and mime not in _TEXT_TYPES:
        return None
    body = block[head:]
    if "chunked" in (http.get("Transfer-Encoding") or "").lower():
        body = _dechunk(body)
    decoded = _decompress(body, http.get("Content-Encoding") or "")
    if decoded is None:
        return None
    text = _to_text(decoded, content_type)
    headers = list(http.items())
    reasons = header_signals(headers, policy)
    if mime in _HTML_TYPES:
        tdm_header = any(name.strip().lower() == "tdm-reservation" for name, _ in headers)
        reasons = sorted({*reasons, *html_signals(text, policy, tdm_header_seen=tdm_header)})
        text = extract_plain_text(text, main_content=True)
    if not text.strip():
        return None
    fetch_time = record.record_date
    if fetch_time.tzinfo is None:
        fetch_time = fetch_time.replace(tzinfo=UTC)
    return Document(
        text=text,
        url=record.headers.get("WARC-Target-URI"),
        external_id=record.record_id,
        fetch_time=fetch_time.astimezone(UTC),
        optout=tuple(reasons),
        kept=policy.keeps(reasons),
        input_line=position,
    )


def read_warc(
    path: Path, start: int = 0, *, optout: OptoutPolicy = DEFAULT_POLICY
) -> Iterator[tuple[int, Document]]:
    """Yield ``(record ordinal, document)`` for each HTTP 200 HTML or plain-text response from record ``start``.

    Opt-out signals in the response's headers and meta tags (`kiroku.optout.tags`) are kept with the document;
    under the ``drop`` policy such a document is not in the kept set.

    Raises `IngestError` naming the file and the byte offset (of the compressed file, for .warc.gz) of a record
    that cannot be read: a file that is not WARC, a truncated file, a corrupt record.
    """
    position, offset = -1, 0
    try:
        with path.open("rb") as handle:
            records = ArchiveIterator(handle, parse_http=False)
            for position, record in enumerate(records):
                offset = record.stream_pos
                if position < start:
                    continue  # FastWARC skips the unread block itself
                if record.record_type == WarcRecordType.response:
                    block = record.reader.read()
                    size = len(block)
                else:
                    block, size = b"", record.consume()
                if size != record.content_length:
                    raise IngestError(
                        f"{path}: record {position} at byte {offset}: truncated "
                        f"({size} of {record.content_length} bytes)"
                    )
                if record.record_type != WarcRecordType.response or not record.is_http:
                    continue
                try:
                    doc = _document(record, block, position, optout)
                except (OSError, ValueError) as exc:
                    raise IngestError(
                        f"{path}: record {position} at byte {offset}: bad HTTP response: {exc}"
                    ) from exc
                if doc is not None:
                    yield position, doc
    except IngestError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        where = (
            f"record {position + 1} after the record at byte {offset}"
            if position >= 0
            else "record 0 at byte 0"
        )
        raise IngestError(f"{path}: cannot read {where}: {exc}") from exc
