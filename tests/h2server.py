"""A loopback HTTPS server that speaks HTTP/2 (and HTTP/1.1) for several named hosts, for crawler tests.

`make_certificates` writes a throwaway CA and a server certificate for the given host names into a folder
(point ``SSL_CERT_FILE`` at `Certificates.ca` so that httpx trusts it). `H2Server` listens on 127.0.0.1 with TLS,
offers ALPN ``h2`` and ``http/1.1`` and speaks whichever the client picks: HTTP/2 with the ``h2`` library, or a
minimal HTTP/1.1 with keep-alive. Each connection gets a thread of its own.

Routes map ``(host, path)`` to a `tests.loopback.Reply` (or a list served in turn, the last one repeating), as
`tests.loopback.LoopbackServer` does; ``Reply.delay`` and ``Reply.close`` are honoured (``close`` drops the
connection without answering). Every request is recorded as a `Seen`, with the protocol it came over and the
number of the connection it came on; every TLS connection is recorded as a `Connection` (SNI name, ALPN
protocol, or the handshake error), so tests check on the server side how the crawler talked.
"""

from __future__ import annotations

import datetime
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, RequestReceived

from tests.loopback import Reply

__all__ = ["Certificates", "Connection", "H2Server", "Seen", "h2_server", "make_certificates"]


# --- certificates ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    """PEM files made by `make_certificates`."""

    ca: Path
    """The CA certificate: what a client trusts (``SSL_CERT_FILE``)."""
    cert: Path
    """The server certificate, signed by the CA, for the host names."""
    key: Path
    """The server certificate's private key."""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(folder: Path, hosts: Sequence[str], *, ca_name: str = "kiroku test CA") -> Certificates:
    """Write a new CA (``ca.pem``) and a server certificate for ``hosts`` signed by it (``server.pem``,
    ``server.key``) into ``folder``; EC P-256 keys, valid from an hour ago for a day."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(ca_name))
        .issuer_name(_name(ca_name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    found = Certificates(ca=folder / "ca.pem", cert=folder / "server.pem", key=folder / "server.key")
    found.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    found.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    found.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return found


# --- the server ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it."""

    time: float
    """``time.monotonic()`` when it arrived."""
    protocol: str
    """``HTTP/2`` or ``HTTP/1.1``."""
    connection: int
    """The number of the connection it came on (`Connection.number`)."""
    authority: str
    """The ``:authority`` pseudo-header (HTTP/2) or the ``Host`` header (HTTP/1.1), as sent."""
    host: str
    """``authority`` without the port, lower case."""
    path: str
    user_agent: str


@dataclass
class Connection:
    """One accepted TCP connection and its TLS handshake."""

    number: int
    sni: str | None = None
    """The server name the client asked for in its TLS handshake."""
    alpn: str | None = None
    """The protocol agreed by ALPN (``h2`` or ``http/1.1``), None if none was."""
    error: str | None = None
    """Why the TLS handshake failed, if it did."""


class _Hangup(Exception):
    """A `Reply` with ``close=True``: drop the connection without answering."""


class H2Server:
    """An HTTPS server on 127.0.0.1 (a free port) presenting ``certificates``; `start` it, then `stop` it."""

    def __init__(self, certificates: Certificates) -> None:
        self.routes: dict[tuple[str, str], Reply | list[Reply]] = {}
        self.seen: list[Seen] = []
        self.connections: list[Connection] = []
        self._lock = threading.Lock()
        self._served: dict[tuple[str, str], int] = {}
        self._open: set[socket.socket] = set()
        self._handshake = threading.local()  # the SNI name of the handshake running in this thread
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(certificates.cert, certificates.key)
        self._context.set_alpn_protocols(["h2", "http/1.1"])
        self._context.sni_callback = self._sni
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    # -- what tests use ------------------------------------------------------------------------------------

    def url(self, host: str, path: str = "/") -> str:
        """``https://host:port/path`` on this server."""
        return f"https://{host}:{self.port}{path}"

    def resolve(self, *hosts: str) -> list[str]:
        """``--resolve`` entries connecting each of ``hosts`` to this server."""
        return [f"{host}:{self.port}:127.0.0.1" for host in hosts]

    def paths(self, host: str | None = None) -> list[str]:
        """The paths requested (of ``host``), in order."""
        return [s.path for s in self.seen if host is None or s.host == host]

    def start(self) -> None:
        """Start accepting connections in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close every open connection and wait for the accepting thread."""
        self._stopping.set()
        self._thread.join()
        self._listener.close()
        with self._lock:
            for sock in self._open:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    # -- connections ---------------------------------------------------------------------------------------

    def _sni(self, sock: ssl.SSLSocket | ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        self._handshake.sni = name

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                connection = Connection(len(self.connections) + 1)
                self.connections.append(connection)
                self._open.add(sock)
            threading.Thread(target=self._serve, args=(sock, connection), daemon=True).start()

    def _serve(self, sock: socket.socket, connection: Connection) -> None:
        sock.settimeout(10)
        tls = self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._lock:  # the wrapped socket took over the file descriptor
            self._open.discard(sock)
            self._open.add(tls)
        try:
            with tls:
                self._handshake.sni = None
                try:
                    tls.do_handshake()
                except (ssl.SSLError, OSError) as exc:
                    connection.error = str(exc)
                    return
                connection.sni = self._handshake.sni
                connection.alpn = tls.selected_alpn_protocol()
                if connection.alpn == "h2":
                    self._serve_h2(tls, connection)
                else:
                    self._serve_http1(tls, connection)
        except (OSError, _Hangup):
            pass  # the client went away, or a reply said to hang up
        finally:
            with self._lock:
                self._open.discard(tls)
            tls.close()

    def _reply(self, connection: Connection, protocol: str, authority: str, path: str, agent: str) -> Reply:
        """Record the request and find its reply (sleeping ``Reply.delay``; raising _Hangup for ``close``)."""
        host = authority.rsplit(":", 1)[0].lower()
        with self._lock:
            self.seen.append(
                Seen(time.monotonic(), protocol, connection.number, authority, host, path, agent)
            )
            route = self.routes.get((host, path))
            if route is None:
                reply = Reply(404, "not found", content_type="text/plain")
            elif isinstance(route, Reply):
                reply = route
            else:
                count = self._served.get((host, path), 0)
                self._served[(host, path)] = count + 1
                reply = route[min(count, len(route) - 1)]
        if reply.delay:
            time.sleep(reply.delay)
        if reply.close:
            raise _Hangup
        return reply

    def _serve_http1(self, tls: ssl.SSLSocket, connection: Connection) -> None:
        """Answer GET requests on a kept-alive HTTP/1.1 connection until the client closes it."""
        with tls.makefile("rb") as incoming:
            while line := incoming.readline(65537):
                _method, path, _version = line.decode("latin-1").split()
                headers = http.client.parse_headers(incoming)
                reply = self._reply(
                    connection, "HTTP/1.1", headers.get("Host", ""), path, headers.get("User-Agent", "")
                )
                body = _body(reply)
                head = [f"HTTP/1.1 {reply.status} {http.client.responses.get(reply.status, 'Unknown')}"]
                head += [f"{k}: {v}" for k, v in _headers(reply, body)]
                tls.sendall("\r\n".join([*head, "", ""]).encode("latin-1") + body)
                if headers.get("Connection", "").lower() == "close":
                    return

    def _serve_h2(self, tls: ssl.SSLSocket, connection: Connection) -> None:
        """Answer requests on an HTTP/2 connection until the client closes it or sends GOAWAY."""
        h2 = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8"))
        h2.initiate_connection()
        tls.sendall(h2.data_to_send())
        while data := tls.recv(65536):
            for event in h2.receive_data(data):
                if isinstance(event, RequestReceived) and event.stream_id is not None:
                    fields = {_text(k): _text(v) for k, v in event.headers or []}
                    reply = self._reply(
                        connection,
                        "HTTP/2",
                        fields.get(":authority", ""),
                        fields.get(":path", ""),
                        fields.get("user-agent", ""),
                    )
                    self._answer_h2(h2, event.stream_id, reply)
                elif isinstance(event, ConnectionTerminated):
                    tls.sendall(h2.data_to_send())
                    return
            tls.sendall(h2.data_to_send())

    @staticmethod
    def _answer_h2(h2: H2Connection, stream_id: int, reply: Reply) -> None:
        body = _body(reply)
        if len(body) > h2.local_flow_control_window(stream_id):
            raise ValueError("this test server sends no body larger than the stream's flow-control window")
        headers = [(":status", str(reply.status)), *((k.lower(), v) for k, v in _headers(reply, body))]
        h2.send_headers(stream_id, headers, end_stream=not body)
        size = h2.max_outbound_frame_size
        for start in range(0, len(body), size):
            h2.send_data(stream_id, body[start : start + size], end_stream=start + size >= len(body))


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _body(reply: Reply) -> bytes:
    return reply.body.encode() if isinstance(reply.body, str) else reply.body


def _headers(reply: Reply, body: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", reply.content_type), ("Content-Length", str(len(body))), *reply.headers.items()]


@contextmanager
def h2_server(certificates: Certificates) -> Iterator[H2Server]:
    """A started `H2Server` presenting ``certificates``, stopped afterwards."""
    server = H2Server(certificates)
    server.start()
    try:
        yield server
    finally:
        server.stop()
