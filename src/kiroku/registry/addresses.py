"""Which hosts the registry may fetch from: public internet addresses only, unless the registry is told
otherwise (``RegistrySettings.allow_private_fetch``, for a closed network or tests).

Used before every fetch the registry makes for someone else: a domain claim's verification file
(`kiroku.registry.inquiries`) and the opt-out check (`kiroku.registry.optout_routes`).
"""

from __future__ import annotations

import ipaddress
import socket

from kiroku.registry.errors import Refused

__all__ = ["check_public_host"]


def check_public_host(host: str) -> None:
    """`Refused` unless every address ``host`` resolves to is a public one: the registry must not be made to
    fetch from its own network (a name pointing at 127.0.0.1, 10.0.0.0/8, a link-local metadata service)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"{host} does not resolve: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            raise Refused(
                f"{host} resolves to {address}, not a public address: the registry fetches only from the internet"
            )
