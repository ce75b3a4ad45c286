"""The public registry of the AI IP Code: filings verified against each firm's key, a comply-or-explain matrix,
and a witness that cosigns every firm's ledger checkpoints.

`create_app` builds the web application (FastAPI) from `RegistrySettings`; `kiroku registry serve` runs it with
uvicorn. Errors are `kiroku.registry.errors.RegistryError` and its subclasses.
"""

from kiroku.registry.app import RegistrySettings, create_app
from kiroku.registry.errors import RegistryError

__all__ = ["RegistryError", "RegistrySettings", "create_app"]
