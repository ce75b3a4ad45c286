"""The crawl's WARC files, written with warcio: a ``warcinfo`` record first in each file, then a ``request``
and a ``response`` record for every exchange (robots.txt and tdmrep.json of any status included).

Each record is a gzip member of its own, built in memory and written with one ``write`` and a flush, so a killed
crawl leaves only whole records behind. Files rotate at a size; each new file starts with its warcinfo record
and a fresh copy of the latest robots.txt and tdmrep.json exchanges of every origin seen so far, so that each
file can be ingested alone (`kiroku.ingest.WarcReader` reads those from the same file).

Bodies are stored with the transfer coding undone (the ``Transfer-Encoding`` header is kept as
``X-Kiroku-Transfer-Encoding``) and the content coding as it came. The status line always says ``HTTP/1.1``;
an exchange made over HTTP/2 carries ``WARC-Protocol: h2``. A body cut at the size limit carries
``WARC-Truncated: length``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import BufferWARCWriter

from kiroku.crawl.errors import CrawlError
from kiroku.optout.fetch import Exchange

__all__ = ["WarcOutput"]


def _warc_date(exchange: Exchange) -> str:
    return exchange.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class WarcOutput:
    """Writes exchanges to ``<folder>/<prefix>-00000.warc.gz``, ``-00001``...; rotates past ``max_bytes``."""

    def __init__(self, folder: Path, prefix: str, info: dict[str, str], *, max_bytes: int = 1 << 30) -> None:
        self.folder = folder
        self.prefix = prefix
        self.info = info
        self.max_bytes = max_bytes
        self.files: list[Path] = []
        self._handle: io.BufferedWriter | None = None
        self._size = 0
        self._site_files: dict[tuple[str, str], list[Exchange]] = {}

    @property
    def current(self) -> Path | None:
        """The file being written, or None before the first record."""
        return self.files[-1] if self.files else None

    def _record_bytes(self, exchange: Exchange) -> bytes:
        writer = BufferWARCWriter(gzip=True)
        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request_headers = [(k, v) for k, v in exchange.request_headers if not k.startswith(":")]
        if not any(k.lower() == "host" for k, _ in request_headers):
            request_headers.insert(0, ("Host", parts.netloc))
        common = {"WARC-Date": _warc_date(exchange)}
        if exchange.ip_address:
            common["WARC-IP-Address"] = exchange.ip_address
        if exchange.http_version.upper().startswith("HTTP/2"):
            common["WARC-Protocol"] = "h2"
        request = writer.create_warc_record(
            exchange.url,
            "request",
            payload=io.BytesIO(b""),
            warc_headers_dict=dict(common),
            http_headers=StatusAndHeaders(f"GET {target} HTTP/1.1", request_headers, is_http_request=True),
        )
        if exchange.status is None:
            writer.write_record(request)
            return bytes(writer.get_contents())
        headers = [
            ("X-Kiroku-Transfer-Encoding", v) if k.lower() == "transfer-encoding" else (k, v)
            for k, v in exchange.headers
        ]
        response_headers = dict(common)
        if exchange.truncated:
            response_headers["WARC-Truncated"] = "length"
        response = writer.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.raw),
            length=len(exchange.raw),
            warc_headers_dict=response_headers,
            http_headers=StatusAndHeaders(
                f"{exchange.status} {exchange.reason or 'Unknown'}", headers, protocol="HTTP/1.1"
            ),
        )
        request.rec_headers.add_header(
            "WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID")
        )
        writer.write_record(request)
        writer.write_record(response)
        return bytes(writer.get_contents())

    def _open(self) -> None:
        if self._handle is not None:
            self._handle.close()
        path = self.folder / f"{self.prefix}-{len(self.files):05d}.warc.gz"
        try:
            self._handle = path.open("xb")
        except OSError as exc:
            raise CrawlError(f"cannot write the WARC file {path}: {exc.strerror}") from exc
        self.files.append(path)
        writer = BufferWARCWriter(gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, self.info))
        self._write(writer.get_contents())
        for exchanges in list(self._site_files.values()):
            for exchange in exchanges:
                self._write(self._record_bytes(exchange))

    def _write(self, data: bytes) -> None:
        assert self._handle is not None
        self._handle.write(data)
        self._handle.flush()
        self._size = self._handle.tell()

    def write(self, exchanges: Iterable[Exchange], site_file: tuple[str, str] | None = None) -> Path:
        """Write each exchange's request and response records; ``site_file`` (origin, ``robots`` or
        ``tdmrep``) marks a site file, copied into later files. Returns the file written to."""
        exchanges = list(exchanges)
        if self._handle is None or self._size >= self.max_bytes:
            self._open()
        for exchange in exchanges:
            self._write(self._record_bytes(exchange))
        if site_file is not None:
            self._site_files[site_file] = exchanges
        assert self.current is not None
        return self.current

    def close(self) -> None:
        """Close the current file."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
