"""A kiroku workspace: one folder holding an organisation's configuration, signing key and ledger.

::

    my-workspace/
      kiroku.toml        organisation, log origin, store URL, retention policy
      keys/ledger.key    Ed25519 signing key (C2SP signed-note private key format, mode 0600)
      keys/ledger.pub    its verifier key: give it to anyone who checks your proofs
      ledger.sqlite      the ledger, unless kiroku.toml names a PostgreSQL store

Commands find the workspace from ``--workspace``, then ``KIROKU_WORKSPACE``, then the current directory and its
parents (the way git finds a repository).

Errors are `WorkspaceError`, with a message that says what to do.
"""

from kiroku.workspace._config import LogSettings, OrganisationSettings, WorkspaceConfig
from kiroku.workspace._workspace import CONFIG_NAME, ENV_VAR, Workspace, WorkspaceError

__all__ = [
    "CONFIG_NAME",
    "ENV_VAR",
    "LogSettings",
    "OrganisationSettings",
    "Workspace",
    "WorkspaceConfig",
    "WorkspaceError",
]
