"""Creating, finding and opening a workspace."""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from pathlib import Path

from pydantic import ValidationError

from kiroku.ledger import Ledger, LedgerError, NoteError, Signer, Verifier
from kiroku.workspace._config import LogSettings, OrganisationSettings, WorkspaceConfig, render_config

__all__ = ["CONFIG_NAME", "ENV_VAR", "Workspace", "WorkspaceError"]

CONFIG_NAME = "kiroku.toml"
ENV_VAR = "KIROKU_WORKSPACE"


class WorkspaceError(Exception):
    """A workspace cannot be created, found or opened; the message says what to do."""


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40] or "org"


def default_origin(org: str) -> str:
    """A unique log origin for ``org``: ``kiroku/<org-slug>/ledger-<8 random hex>``."""
    return f"kiroku/{_slug(org)}/ledger-{secrets.token_hex(4)}"


class Workspace:
    """An opened workspace folder (see the package docstring)."""

    def __init__(self, root: Path, config: WorkspaceConfig) -> None:
        self.root = root
        self.config = config

    @property
    def config_path(self) -> Path:
        """The workspace's kiroku.toml."""
        return self.root / CONFIG_NAME

    # -- creating --------------------------------------------------------------------------------------------

    @classmethod
    def init(cls, root: Path, org: str, *, origin: str | None = None, store: str | None = None) -> Workspace:
        """Create a workspace in ``root``: kiroku.toml, a new signing key and an empty ledger."""
        root = root.resolve()
        if (root / CONFIG_NAME).exists():
            raise WorkspaceError(f"{root / CONFIG_NAME} already exists; this folder is a workspace already")
        try:
            config = WorkspaceConfig(
                organisation=OrganisationSettings(name=org),
                log=LogSettings(origin=origin or default_origin(org), **({"store": store} if store else {})),
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            raise WorkspaceError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from exc
        workspace = cls(root, config)
        signer = Signer.generate(config.log.origin)
        created = not root.exists()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkspaceError(f"cannot create the workspace folder {root}: {exc.strerror}") from exc
        # the ledger first: if the store is unusable or taken, nothing has been written yet
        try:
            Ledger.create(workspace.store_url, config.log.origin, config.retention_policy()).close()
        except LedgerError:
            if created and not any(root.iterdir()):
                root.rmdir()
            raise
        try:
            key_path, pub_path = (
                workspace._path(config.log.signing_key),
                workspace._path(config.log.verifier_key),
            )
            key_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(signer.to_skey() + "\n")
            pub_path.write_text(signer.verifier().to_vkey() + "\n")
        except FileExistsError as exc:
            raise WorkspaceError(
                f"{exc.filename} already exists; refusing to overwrite a signing key"
            ) from exc
        except OSError as exc:
            raise WorkspaceError(f"cannot create the workspace in {root}: {exc.strerror}") from exc
        workspace.config_path.write_text(render_config(config))
        return workspace

    # -- finding and opening ---------------------------------------------------------------------------------

    @classmethod
    def open(cls, root: Path) -> Workspace:
        """Open the workspace whose kiroku.toml is in ``root``."""
        path = root / CONFIG_NAME
        try:
            data = tomllib.loads(path.read_text())
        except FileNotFoundError as exc:
            raise WorkspaceError(
                f"{root} is not a kiroku workspace (no {CONFIG_NAME}); run 'kiroku init'"
            ) from exc
        except tomllib.TOMLDecodeError as exc:
            raise WorkspaceError(f"{path}: {exc}") from exc
        try:
            config = WorkspaceConfig.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise WorkspaceError(f"{path}: setting {where!r}: {first['msg']}") from exc
        return cls(root.resolve(), config)

    @classmethod
    def find(cls, explicit: Path | None = None) -> Workspace:
        """The workspace named by ``explicit``, else by $KIROKU_WORKSPACE, else the nearest enclosing folder."""
        if explicit is not None:
            return cls.open(explicit)
        if os.environ.get(ENV_VAR):
            return cls.open(Path(os.environ[ENV_VAR]))
        here = Path.cwd()
        for folder in (here, *here.parents):
            if (folder / CONFIG_NAME).is_file():
                return cls.open(folder)
        raise WorkspaceError(
            f"no kiroku workspace here or above {here}; run 'kiroku init DIR --org NAME', "
            f"or pass --workspace DIR, or set {ENV_VAR}"
        )

    # -- what it holds ---------------------------------------------------------------------------------------

    def _path(self, relative: str) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.root / path

    @property
    def store_url(self) -> str:
        """The store URL with a relative SQLite path made relative to the workspace."""
        url = self.config.log.store
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            relative = url.removeprefix("sqlite:///")
            if relative and relative != ":memory:":
                return f"sqlite:///{self._path(relative)}"
        return url

    @property
    def catalog_dir(self) -> Path:
        """The folder of the catalog's shard files."""
        return self._path(self.config.catalog.path)

    @property
    def index_dir(self) -> Path:
        """The folder of the indexes built from the catalog."""
        return self._path(self.config.catalog.index)

    def signer(self) -> Signer:
        """The workspace's signing key."""
        path = self._path(self.config.log.signing_key)
        try:
            signer = Signer.from_skey(path.read_text())
        except OSError as exc:
            raise WorkspaceError(f"cannot read the signing key {path}: {exc.strerror}") from exc
        except NoteError as exc:
            raise WorkspaceError(f"{path}: not a signing key: {exc}") from exc
        if signer.name != self.config.log.origin:
            raise WorkspaceError(
                f"{path} is the key of {signer.name!r}, not of this log {self.config.log.origin!r}"
            )
        return signer

    def verifier(self) -> Verifier:
        """The workspace's verifier (public) key."""
        path = self._path(self.config.log.verifier_key)
        try:
            return Verifier.from_vkey(path.read_text())
        except OSError as exc:
            raise WorkspaceError(f"cannot read the verifier key {path}: {exc.strerror}") from exc
        except NoteError as exc:
            raise WorkspaceError(f"{path}: not a verifier key: {exc}") from exc

    def ledger(self) -> Ledger:
        """Open the workspace's ledger."""
        try:
            return Ledger.open(self.store_url, self.config.log.origin, self.config.retention_policy())
        except LedgerError as exc:
            raise WorkspaceError(f"{self.config_path}: {exc}") from exc
