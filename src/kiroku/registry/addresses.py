"""Which hosts the registry may fetch from: public internet addresses only, unless the registry is told
otherwise (``RegistrySettings.allow_private_fetch``, for a closed network or tests).

Every fetch the registry makes for someone else (a domain claim's verification file, `kiroku.registry.inquiries`;
the opt-out check, `kiroku.registry.optout_routes`) goes through ``kiroku.optout.fetch.client(public_only=True)``.
Its network backend resolves the host of each new connection once, refuses it unless every address is public
(`kiroku.optout.addresses.is_public`), and connects to the address it checked, while TLS and the ``Host``
header keep the name: a name whose DNS answer changes between a check and the connection (DNS rebinding) cannot
reach the registry's own network. `refused` turns such a refusal into the registry's `Refused`.
"""

from __future__ import annotations

from kiroku.optout.addresses import refusal_message
from kiroku.registry.errors import Refused

__all__ = ["refused"]


def refused(error: BaseException | str | None) -> Refused | None:
    """A `Refused` saying which host resolved to which address, if ``error`` (an exception from the client, or
    the error a fetch recorded) is the public-only client refusing a connection; None otherwise."""
    message = refusal_message(error)
    return None if message is None else Refused(message)
