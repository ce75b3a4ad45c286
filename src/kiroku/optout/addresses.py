"""Which addresses a fetch made for someone else may connect to: public internet addresses only.

The public registry fetches from addresses its users give it (a domain claim's verification file, the opt-out
check); it must not be made to fetch from its own network: a name pointing at 127.0.0.1, 10.0.0.0/8 or a
link-local metadata service (169.254.169.254). `kiroku.optout.fetch.client` with ``public_only`` applies the
rule here to every address it connects to, once per connection, and connects to the address it checked (so a
name whose DNS answer changes between a check and the connection, DNS rebinding, gains nothing).

`is_public` is the rule; `checked_addresses` applies it to what a name resolved to and raises `AddressRefused`,
whose message names the host and the address; `refusal_message` finds that message again in an exception's
causes or in the error text a fetch recorded (``ConnectError: ...``). This module imports nothing of kiroku,
so that `kiroku.optout` and `kiroku.registry` can both use it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable

__all__ = [
    "Address",
    "AddressRefused",
    "AddressRule",
    "checked_addresses",
    "is_public",
    "refusal_message",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressRule = Callable[[Address], bool]
"""Says whether an address may be connected to (`is_public` unless a test or a closed network says otherwise)."""

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_WHY = "not a public address: the registry fetches only from the internet"
_REFUSAL = re.compile(
    r"(?:[A-Za-z]+: )?(\S+ (?:resolves to \S+, not a public address|is not a public address|does not resolve)"
    r"(?::.*)?)",
    re.DOTALL,
)


class AddressRefused(ValueError):
    """A host that resolves to an address outside the rule (or to nothing): the fetch is refused."""

    def __init__(self, message: str, host: str, address: str | None = None) -> None:
        super().__init__(message)
        self.host = host
        self.address = address


def is_public(address: Address) -> bool:
    """Whether ``address`` is on the public internet: globally routable and not multicast. An IPv4 address
    written as IPv6 (``::ffff:127.0.0.1``, or in the NAT64 prefix ``64:ff9b::/96``) is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in _NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.is_global and not address.is_multicast


def _parse(text: str) -> Address:
    return ipaddress.ip_address(text.split("%", 1)[0])  # a scope (fe80::1%eth0) is not part of the address


def checked_addresses(host: str, addresses: Iterable[str], *, allowed: AddressRule = is_public) -> list[str]:
    """``addresses`` (what ``host`` resolved to) without repeats, in order, if ``allowed`` accepts every one of
    them; `AddressRefused` naming the host and the first address refused otherwise, or when there is none."""
    found: list[str] = []
    for text in addresses:
        if text not in found:
            found.append(text)
    if not found:
        raise AddressRefused(f"{host} does not resolve: no address", host)
    for text in found:
        try:
            address = _parse(text)
        except ValueError:
            raise AddressRefused(f"{host} resolves to {text}, {_WHY}", host, text) from None
        if not allowed(address):
            if text == host:  # an IP address given as the host
                raise AddressRefused(f"{host} is {_WHY}", host, text)
            raise AddressRefused(f"{host} resolves to {text}, {_WHY}", host, text)
    return found


def refusal_message(error: BaseException | str | None) -> str | None:
    """The `AddressRefused` message behind ``error``, or None: ``error`` is an exception (its causes are searched,
    as httpx and httpcore wrap it) or the text a fetch recorded (``ConnectError: 10.example resolves to ...``)."""
    if error is None:
        return None
    if isinstance(error, BaseException):
        seen: BaseException | None = error
        while seen is not None:
            if isinstance(seen, AddressRefused):
                return str(seen)
            seen = seen.__cause__ or seen.__context__
        return None
    found = _REFUSAL.fullmatch(error.strip())
    return found.group(1) if found else None
