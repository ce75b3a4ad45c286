"""What a user asks about: a registrable domain, a host under one, or a URL-path prefix of a host.

`parse_target` turns what was typed (``Example.COM.``, ``例え.jp``, ``ＥＸＡＭＰＬＥ.com``, ``[2001:db8::1]``,
``example.com/news/``) into a `Target`, or raises `InvalidName` with one line that says what to give instead.
`normalise_name` is its fast path for bulk lookups: the normalised name, or None, never an exception; ASCII input
never goes through ``idna``.

A name is normalised as the catalog stores hosts (`kiroku.catalog.urls.host_of`): lower case, punycode (IDNA 2008
with the UTS #46 mapping), no trailing dot; an IPv6 address without brackets. Labels may hold underscores, as real
crawls' hosts do.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal
from urllib.parse import quote, urlsplit

import idna
from publicsuffixlist import PublicSuffixList

from kiroku.catalog.urls import registrable_domain
from kiroku.domains.errors import InvalidName

__all__ = ["Target", "display_name", "normalise_name", "parse_target"]

Kind = Literal["domain", "host", "prefix"]

MAX_LABEL = 63
MAX_NAME = 253

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_ASCII_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_LABEL_CHARS = re.compile(r"[a-z0-9_-]+")
_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")
_WHITESPACE = re.compile(r"\s")
# A label that no exception rule of the public suffix list names (see `_is_public_suffix`).
_PROBE = "kiroku-probe."
_EXAMPLES = "a domain (example.com), a host (news.example.com) or a path prefix (example.com/news/)"


@dataclass(frozen=True)
class Target:
    """A parsed question: the name asked about and, for a path prefix, the path."""

    query: str
    """What was typed, without surrounding white space."""
    name: str
    """The normalised host or domain: lower case, punycode, no trailing dot."""
    display: str
    """The name in Unicode, for people (the same as `name` when it has no punycode label)."""
    kind: Kind
    """``domain`` for a registrable domain, ``host`` for a host under one, ``prefix`` when a path was given."""
    registrable_domain: str
    """The registrable domain of `name` (an IP address is its own)."""
    path_prefix: str | None
    """None, or a path starting with ``/`` (non-ASCII characters percent-encoded)."""


def parse_target(text: str) -> Target:
    """Parse a domain, host, IP address or ``host/path/`` prefix; raise `InvalidName` saying what to give instead."""
    query = text.strip()
    shown = _shown(query)
    if not query:
        raise InvalidName(f"no name given: give {_EXAMPLES}")
    if _WHITESPACE.search(query):
        raise InvalidName(f"{shown} contains white space: give one name: {_EXAMPLES}")
    if _SCHEME.match(query) or query.startswith("//"):
        raise InvalidName(_url_message(query))
    cut = min((i for i in (query.find(c) for c in "/?#") if i >= 0), default=len(query))
    hostport, rest = query[:cut], query[cut:]
    if "@" in hostport:
        after = hostport.rpartition("@")[2]
        raise InvalidName(f"{shown} has user info (before '@'): give the name without it, {after}{rest}")
    host = _strip_port(hostport)
    if host is None:
        raise InvalidName(_port_message(query, hostport, rest))
    if "?" in rest or "#" in rest:
        part = "a query string" if "?" in rest else "a fragment"
        path = re.split(r"[?#]", rest, maxsplit=1)[0]
        instead = hostport if path in ("", "/") else hostport + path
        raise InvalidName(f"{shown} has {part}: a path prefix is a name and a path only, give {instead}")
    path_prefix = None if rest in ("", "/") else quote(rest, safe="/%:@!$&'()*+,;=-._~")
    name = _host_name(host, shown)
    domain = registrable_domain(name)
    kind: Kind = "prefix" if path_prefix is not None else ("domain" if domain == name else "host")
    return Target(
        query=query,
        name=name,
        display=display_name(name),
        kind=kind,
        registrable_domain=domain,
        path_prefix=path_prefix,
    )


def normalise_name(text: str) -> str | None:
    """The normalised name of a domain, host or IP address, or None when `parse_target` would reject it.

    Never raises. A path prefix is not a name: ``example.com/news/`` gives None (``example.com/`` gives
    ``example.com``).
    """
    stripped = text.strip()
    if stripped.isascii():
        name = stripped.lower()
        if name.endswith("."):
            name = name[:-1]
        if (
            len(name) <= MAX_NAME
            and _ASCII_NAME.fullmatch(name)
            and not name.rpartition(".")[2].isdigit()
            and not _is_public_suffix(name)
        ):
            return name
    try:
        target = parse_target(stripped)
    except InvalidName:
        return None
    return target.name if target.path_prefix is None else None


def _host_name(host: str, shown: str) -> str:
    """The normalised name of ``host`` (the part of the query before any path), or `InvalidName`."""
    if not host:
        raise InvalidName(f"{shown} has no name before the path: give {_EXAMPLES}")
    if host.startswith("[") or ":" in host:
        return _ipv6(host, shown)
    if host.endswith("."):
        host = host[:-1]
    if host.isascii():
        name = host.lower()
    else:
        try:
            name = idna.uts46_remap(host, std3_rules=False, transitional=False)
        except idna.IDNAError as exc:
            raise InvalidName(
                f"{shown} is not a valid internationalised domain name ({exc}): check the name"
            ) from exc
    labels = name.split(".")
    if labels[-1].isascii() and labels[-1].isdigit():
        try:
            return str(ipaddress.IPv4Address(name))
        except ValueError:
            raise InvalidName(
                f"{shown} is not an IPv4 address, and a top-level domain is never all digits: "
                "give an address such as 192.0.2.1 or a name such as example.com"
            ) from None
    name = ".".join(_label(label, labels, shown) for label in labels)
    if len(name) > MAX_NAME:
        raise InvalidName(
            f"{shown} is {len(name)} octets long in ASCII, a domain name at most {MAX_NAME}: check the name"
        )
    if _is_public_suffix(name):
        raise InvalidName(
            f"{shown} is a public suffix: nothing can be registered there, so no site has exactly that name; "
            f"give a domain under it, such as example.{display_name(name)}"
        )
    return name


def _ipv6(host: str, shown: str) -> str:
    """An IPv6 address, bare or in brackets, in its canonical (compressed, lower-case) form."""
    inner = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        address = ipaddress.IPv6Address(inner)
    except ValueError:
        raise InvalidName(
            f"{shown} is not a valid IPv6 address: give one such as 2001:db8::1 or [2001:db8::1]"
        ) from None
    if address.scope_id is not None:
        raise InvalidName(f"{shown} has a zone index (%{address.scope_id}): give the address without it")
    return str(address)


def _label(label: str, labels: list[str], shown: str) -> str:
    """One label in ASCII (punycode for a Unicode one), or `InvalidName` saying what is wrong with it."""
    if not label:
        fixed = ".".join(part for part in labels if part)
        hint = f"such as {fixed}" if fixed else _EXAMPLES
        raise InvalidName(
            f"{shown} has an empty label (two dots in a row, or a leading dot): give a name {hint}"
        )
    if label.isascii():
        if not _LABEL_CHARS.fullmatch(label):
            bad = next(c for c in label if not _LABEL_CHARS.fullmatch(c))
            if bad == "*":
                raise InvalidName(
                    f"{shown} has a wildcard, which is not needed: the answer for a domain covers every host "
                    "under it; give the domain, such as example.com"
                )
            raise InvalidName(
                f"{shown} has a character not allowed in a domain name ({bad!r}): "
                "give labels of letters, digits, '-' and '_'"
            )
        ascii_label = label
    else:
        try:
            ascii_label = "xn--" + label.encode("punycode").decode("ascii")
        except UnicodeError:
            raise InvalidName(
                f"{shown} has a label that cannot be written in punycode: check the name"
            ) from None
    if len(ascii_label) > MAX_LABEL:
        raise InvalidName(
            f"{shown} has a label of {len(ascii_label)} octets ({_shown(label, 24)}), "
            f"a label at most {MAX_LABEL}: check the name"
        )
    if label.startswith("-") or label.endswith("-"):
        raise InvalidName(
            f"{shown} has a label that starts or ends with '-' ({_shown(label, 24)}): "
            "give labels that start and end with a letter or digit"
        )
    if not label.isascii():
        try:
            ascii_label = idna.alabel(label).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidName(
                f"{shown} is not a valid internationalised domain name ({exc}): check the name"
            ) from exc
    return ascii_label


def _strip_port(hostport: str) -> str | None:
    """The host of ``host[:port]``; None when a port (or a stray ':') follows the host."""
    if hostport.startswith("["):
        close = hostport.find("]")
        return hostport if close in (-1, len(hostport) - 1) else None
    if hostport.count(":") == 1:
        return None
    return hostport


def _port_message(query: str, hostport: str, rest: str) -> str:
    """The message for ``example.com:8080``, ``[::1]:80`` or a stray ':'."""
    host = hostport[: hostport.find("]") + 1] if hostport.startswith("[") else hostport.partition(":")[0]
    return f"{_shown(query)} has a port: a name has none, give {host}{rest}"


def _url_message(query: str) -> str:
    """The message for a URL with a scheme: `kiroku query url` for one document, or a prefix without scheme."""
    shown = _shown(query)
    try:
        parts = urlsplit("http:" + query if query.startswith("//") else query)
        host = parts.hostname or ""
    except ValueError:
        return f"{shown} is a URL, and not a valid one: give {_EXAMPLES}, without a scheme"
    if not host:
        return f"{shown} is a URL: give {_EXAMPLES}, without a scheme"
    if ":" in host:
        host = f"[{host}]"
    path = parts.path
    if path in ("", "/") and not parts.query and not parts.fragment:
        return f"{shown} is a URL: for the whole site give the name without a scheme, {host}"
    directory = path[: path.rfind("/") + 1]
    pages = (
        f"for every page under its path give {host}{directory}"
        if directory not in ("", "/")
        else f"for the whole site give {host} (or a path prefix such as {host}/news/)"
    )
    return f"{shown} is a URL: for this one document use `kiroku query url {query}`; {pages}"


def display_name(name: str) -> str:
    """The Unicode form of a normalised name, for people (a label of invalid punycode stays as it is)."""
    if "xn--" not in name:
        return name
    labels = []
    for label in name.split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(idna.IDNAError, UnicodeError):
                label = idna.ulabel(label)
        labels.append(label)
    return ".".join(labels)


def _is_public_suffix(name: str) -> bool:
    """Whether ``name`` is a public suffix itself (``com``, ``co.jp``, ``bar.kawasaki.jp``): no site has it.

    A host under a registrable domain is not; a registrable domain is the registrable domain of a host one label
    below it, and a public suffix is not. A single label is a suffix only when the list names it (``com``); the
    catalog treats another (``localhost``) as its own domain, so it can be asked about.
    """
    if registrable_domain(name) != name:
        return False
    if "." not in name:
        return _listed_suffixes().publicsuffix(name, accept_unknown=False) == name
    return registrable_domain(_PROBE + name) != name


@cache
def _listed_suffixes() -> PublicSuffixList:
    """The bundled public suffix list without its default rule (only for single-label names: ~0.1 s to load)."""
    return PublicSuffixList(accept_unknown=False)


def _shown(text: str, limit: int = 80) -> str:
    """``text`` quoted for a one-line message, shortened when long (control characters escaped)."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)
