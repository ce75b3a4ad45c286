"""Answer bundles: "yes" and "no" verify offline with the public key alone, and fail when anything is altered.

Bundles are made by ``kiroku query domain NAME --bundle FILE`` on the test catalog and checked by
``kiroku verify FILE --key KEY`` in a folder holding nothing else; the exhaustive tampering loops use
`verify_domain_bundle`, the same check the command runs.
"""

from __future__ import annotations

import base64
import copy
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kiroku.domains import DomainIndex
from kiroku.domains.bundle import verify_domain_bundle
from kiroku.domains.keys import name_key
from kiroku.domains.names import display_name
from kiroku.domains.tables import table_files
from kiroku.ledger import BundleError, LedgerError, Verifier
from kiroku.ledger.note import NoteError
from kiroku.workspace import Workspace
from tests.conftest import kiroku
from tests.domains.conftest import BOOKS, Truth, init_workspace, ok, sha256_hex, verifier_key

Bundle = dict[str, Any]
Mutation = Callable[[Bundle], None]


def _key_below(keys: list[bytes], below: bool) -> str:
    """An absent name whose key sorts before every key (``below``) or after every key of ``keys``."""
    for i in range(10_000):
        name = f"absent-{i}.example"
        key = name_key(name)
        if (key < min(keys)) if below else (key > max(keys)):
            return name
    raise AssertionError("no such name in 10,000 tries")


def _key_between(keys: list[bytes]) -> str:
    low, high = sorted(keys)[0], sorted(keys)[-1]
    for i in range(10_000):
        name = f"nowhere-{i}.example"
        if low < name_key(name) < high and name_key(name) not in keys:
            return name
    raise AssertionError("no such name in 10,000 tries")


@pytest.fixture(scope="module")
def key(catalog: Path) -> str:
    """The catalog's verifier key."""
    return verifier_key(catalog)


@pytest.fixture(scope="module")
def asked(truth: Truth) -> dict[str, tuple[str, bool]]:
    """What each bundle is asked about (as typed), and whether the name is in the catalog."""
    domains = [name_key(n) for n in truth.names("domain")]
    return {
        "domain": ("example.jp", True),
        "host": ("blog.example.com", True),
        "idn": ("例え.jp", True),
        "dropped": ("manga-scans.example", True),
        "absent": (_key_between(domains), False),
        "first": (_key_below(domains, below=True), False),
        "last": (_key_below(domains, below=False), False),
        "absent-host": ("nothing.example.jp", False),
    }


@pytest.fixture(scope="module")
def bundles(
    catalog: Path, asked: dict[str, tuple[str, bool]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """One bundle file per entry of `asked`, in a folder of their own."""
    folder = tmp_path_factory.mktemp("bundles")
    for label, (query, _) in asked.items():
        ok("query", "domain", query, "--bundle", str(folder / f"{label}.json"), cwd=catalog)
    return folder


def load(bundles: Path, label: str) -> Bundle:
    data = json.loads((bundles / f"{label}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def verifies(bundle: Bundle, key: str) -> bool:
    """Whether `verify_domain_bundle` accepts the bundle; False on any of its failures."""
    try:
        verify_domain_bundle(json.dumps(bundle), Verifier.from_vkey(key))
    except (LedgerError, NoteError):
        return False
    return True


def cli_verify(bundle: Bundle | bytes, key: str, folder: Path) -> int:
    """Exit code of ``kiroku verify`` on the bundle, written alone into ``folder``."""
    path = folder / "bundle.json"
    path.write_bytes(bundle if isinstance(bundle, bytes) else json.dumps(bundle).encode())
    return kiroku("verify", str(path), "--key", key, cwd=folder).returncode


# -- they verify -----------------------------------------------------------------------------------------------


def test_every_bundle_verifies_offline_with_the_key_alone(
    bundles: Path, asked: dict[str, tuple[str, bool]], key: str, tmp_path: Path
) -> None:
    for label, (query, present) in asked.items():
        outsider = tmp_path / label
        outsider.mkdir()
        (outsider / "bundle.json").write_bytes((bundles / f"{label}.json").read_bytes())
        result = kiroku("verify", "bundle.json", "--key", key, cwd=outsider)
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.strip().splitlines()
        assert lines[0].startswith("OK: ")
        assert len(lines[1:]) == len(load(bundles, label)["scopes"]) == 7
        verified = verify_domain_bundle((bundles / f"{label}.json").read_bytes(), Verifier.from_vkey(key))
        assert verified.claims[0].scope == "catalog" and verified.claims[0].present == present, query


def test_an_idn_is_proved_under_its_punycode(bundles: Path, key: str) -> None:
    bundle = load(bundles, "idn")
    assert (bundle["name"], bundle["table"]) == ("xn--r8jz45g.jp", "domain")
    assert bundle["scopes"][0]["entry"]["key"] == sha256_hex("xn--r8jz45g.jp")


def test_a_membership_bundle_proves_exactly_the_brute_force_counts(
    bundles: Path, truth: Truth, key: str
) -> None:
    for label, table in (("domain", "domain"), ("host", "host"), ("idn", "domain"), ("dropped", "domain")):
        bundle = load(bundles, label)
        verified = verify_domain_bundle(json.dumps(bundle), Verifier.from_vkey(key))
        assert verified.table == table
        primary = {"catalog": "fetched", "stage": "kept", "run": "documents"}
        for claim in verified.claims:
            want = truth.lookup(claim.scope, table, bundle["name"])
            assert claim.counts == (want or dict.fromkeys(claim.counts, 0)), (label, claim.scope)
            assert claim.present == (claim.counts[primary[claim.scope.partition(":")[0]]] > 0)
        assert verified.claims[0].present


def test_a_non_membership_bundle_brackets_the_name_or_sits_at_an_end_of_the_table(
    bundles: Path, catalog: Path
) -> None:
    index = DomainIndex.open(Workspace.open(catalog).index_dir)
    for label in ("absent", "first", "last", "absent-host"):
        bundle = load(bundles, label)
        key = name_key(bundle["name"])
        for scope in bundle["scopes"]:
            size = index.table(scope["scope"], bundle["table"]).size
            assert scope["entry"] is None
            around = scope["neighbours"]
            keys = [bytes.fromhex(n["key"]) for n in around]
            if label == "first":
                assert [n["position"] for n in around] == [0] and key < keys[0]
            elif label == "last":
                assert [n["position"] for n in around] == [size - 1] and keys[0] < key
            else:
                assert around[1]["position"] == around[0]["position"] + 1 and keys[0] < key < keys[1]


def test_a_bundle_reveals_at_most_two_other_keys_and_no_other_name_or_count(
    bundles: Path, asked: dict[str, tuple[str, bool]], truth: Truth
) -> None:
    names = truth.names("domain") | truth.names("host")
    for label in asked:
        text = (bundles / f"{label}.json").read_text(encoding="utf-8")
        bundle = json.loads(text)
        own = sha256_hex(bundle["name"])
        others: set[str] = set()
        for scope in bundle["scopes"]:
            keys = {e["key"] for e in [scope["entry"], *scope["neighbours"]] if e} - {own}
            assert len(keys) <= 2, (label, scope["scope"])
            others |= keys
            for neighbour in scope["neighbours"]:  # sealed: no counts, no salt to test guesses against
                assert neighbour["counts"] is None and neighbour["salt"] is None and neighbour["digest"]
        assert len(others) <= 2, label  # the same two neighbours in every scope
        for other in names:
            if other in bundle["name"]:
                continue  # the name's own domain is part of it
            assert other not in text and display_name(other) not in text, (label, other)


# -- and fail when altered -------------------------------------------------------------------------------------


def _flip_b64(value: str, at: int = 0) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[at] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _flip_hex(value: str) -> str:
    return ("1" if value[0] == "0" else "0") + value[1:]


def _entries(bundle: Bundle) -> Iterator[tuple[int, str, int]]:
    """(scope position, "entry" or "neighbours", neighbour position) of every entry of the bundle."""
    for s, scope in enumerate(bundle["scopes"]):
        if scope["entry"] is not None:
            yield s, "entry", -1
        for n in range(len(scope["neighbours"])):
            yield s, "neighbours", n


def _get(bundle: Bundle, where: tuple[int, str, int]) -> dict[str, Any]:
    s, part, n = where
    found = bundle["scopes"][s][part] if part == "entry" else bundle["scopes"][s][part][n]
    assert isinstance(found, dict)
    return found


def _every_entry_mutation(bundle: Bundle) -> Iterator[tuple[str, Bundle]]:
    """Each count, salt, digest and proof hash changed, each key and position changed, each neighbour dropped
    or opened; one at a time."""
    for where in _entries(bundle):
        entry = _get(bundle, where)
        if entry["counts"] is not None:
            for i, count in enumerate(entry["counts"]):
                for value in {count + 1, 0 if count else 1, 2**63 + count}:
                    changed = copy.deepcopy(bundle)
                    _get(changed, where)["counts"][i] = value
                    yield f"{where} count {i} = {value}", changed
            changed = copy.deepcopy(bundle)
            _get(changed, where)["salt"] = _flip_hex(entry["salt"])
            yield f"{where} salt", changed
        else:
            changed = copy.deepcopy(bundle)
            _get(changed, where)["digest"] = _flip_hex(entry["digest"])
            yield f"{where} digest", changed
        for i in range(len(entry["proof"])):
            changed = copy.deepcopy(bundle)
            _get(changed, where)["proof"][i] = _flip_b64(entry["proof"][i], at=i % 32)
            yield f"{where} proof {i}", changed
        changed = copy.deepcopy(bundle)
        _get(changed, where)["proof"].pop()
        yield f"{where} proof shortened", changed
        changed = copy.deepcopy(bundle)
        _get(changed, where)["key"] = _flip_hex(entry["key"])
        yield f"{where} key", changed
        for delta in (-1, 1):
            if entry["position"] + delta >= 0:
                changed = copy.deepcopy(bundle)
                _get(changed, where)["position"] += delta
                yield f"{where} position {delta:+}", changed
        if where[1] == "neighbours":
            changed = copy.deepcopy(bundle)
            del changed["scopes"][where[0]]["neighbours"][where[2]]
            yield f"{where} dropped", changed
            changed = copy.deepcopy(bundle)
            _get(changed, where).update(digest=None, salt="0" * 32, counts=[0] * 4)
            yield f"{where} opened with made-up counts", changed


def _in_every_scope(bundle: Bundle) -> Iterator[tuple[str, Bundle]]:
    """The same change in every scope, so that no scope disagrees with another about where the name sits."""
    changes: dict[str, Callable[[dict[str, Any]], None]] = {
        "position +1": lambda e: e.update(position=e["position"] + 1),
        "key": lambda e: e.update(key=_flip_hex(e["key"])),
        "first count or digest": lambda e: (
            e["counts"].__setitem__(0, e["counts"][0] + 1)
            if e["counts"]
            else e.update(digest=_flip_hex(e["digest"]))
        ),
        "first proof hash": lambda e: e["proof"].__setitem__(0, _flip_b64(e["proof"][0])),
    }
    for what, change in changes.items():
        changed = copy.deepcopy(bundle)
        for where in _entries(changed):
            change(_get(changed, where))
        yield f"every scope: {what}", changed
    if bundle["scopes"][0]["neighbours"]:
        for n in range(len(bundle["scopes"][0]["neighbours"])):
            changed = copy.deepcopy(bundle)
            for scope in changed["scopes"]:
                del scope["neighbours"][n]
            yield f"every scope: neighbour {n} dropped", changed


@pytest.mark.parametrize(
    "label", ["domain", "host", "idn", "dropped", "absent", "first", "last", "absent-host"]
)
def test_any_altered_count_proof_hash_key_position_or_dropped_neighbour_fails(
    bundles: Path, key: str, label: str
) -> None:
    bundle = load(bundles, label)
    assert verifies(bundle, key)
    tried = 0
    for what, changed in [*_every_entry_mutation(bundle), *_in_every_scope(bundle)]:
        assert not verifies(changed, key), what
        tried += 1
    assert tried > 50


def _changed(bundle: Bundle, *path: str | int, to: Callable[[Any], Any]) -> Bundle:
    """A copy of ``bundle`` with the value at ``path`` replaced by ``to(value)``."""
    result = copy.deepcopy(bundle)
    node: Any = result
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = to(node[path[-1]])
    return result


def _note(bundle: Bundle, line: int, to: Callable[[str], str]) -> Bundle:
    """The bundle with one line of its signed checkpoint changed."""

    def change(note: str) -> str:
        lines = note.split("\n")
        lines[line] = to(lines[line])
        return "\n".join(lines)

    return _changed(bundle, "record", "checkpoint", to=change)


def _record_mutations(bundle: Bundle, other_name: str) -> Iterator[tuple[str, Bundle, set[int]]]:
    """Changes outside the entries: the log record, its body, the checkpoint, the name, the table, the scopes.

    Each comes with the exit codes ``kiroku verify`` may give (1: does not verify, 2: not well formed).
    """
    record, table = bundle["record"], bundle["table"]
    for i in range(len(record["proof"])):
        yield f"record proof {i}", _changed(bundle, "record", "proof", i, to=_flip_b64), {1}
    yield "record index", _changed(bundle, "record", "index", to=lambda v: v - 1), {1}
    yield "tree size", _changed(bundle, "record", "tree_size", to=lambda v: v + 1), {1}
    yield "record time", _changed(bundle, "record", "entry", "time", to=lambda _: "2020-01-01T00:00:00Z"), {1}
    yield "body digest", _changed(bundle, "record", "entry", "body_sha256", to=_flip_hex), {1}
    yield "body documents", _changed(bundle, "record", "body", "documents", to=lambda v: v + 1), {1}
    for s in range(len(record["body"]["scopes"])):
        yield (
            f"body scope {s} root",
            _changed(bundle, "record", "body", "scopes", s, table, "root", to=_flip_hex),
            {1},
        )
    yield (
        "body field renamed",
        _changed(bundle, "record", "body", "scopes", 0, "fields", 0, to=lambda _: "kept"),
        {1},
    )
    grown = copy.deepcopy(bundle)
    for scope in grown["record"]["body"]["scopes"]:
        scope[table]["size"] += 1
    yield "body sizes, all", grown, {1}
    yield "checkpoint origin", _note(bundle, 0, lambda _: "other.example/log"), {1, 2}
    yield "checkpoint size", _note(bundle, 1, lambda size: str(int(size) + 1)), {1}
    yield "checkpoint root", _note(bundle, 2, lambda root: _flip_b64(root, 7)), {1}
    yield "checkpoint signature", _note(bundle, 4, lambda line: line.rpartition(" ")[0] + " " + _flip_b64(
        line.rpartition(" ")[2], 20)), {1}  # fmt: skip
    yield (
        "checkpoint signer",
        _note(bundle, 4, lambda line: "— someone.else/log " + line.rpartition(" ")[2]),
        {1, 2},
    )
    yield "name", _changed(bundle, "name", to=lambda _: other_name), {1}
    yield "table", _changed(bundle, "table", to=lambda t: "host" if t == "domain" else "domain"), {1}
    swapped = copy.deepcopy(bundle)
    _swap_scopes(swapped, 2, 3)
    yield "scope labels swapped", swapped, {1}
    yield (
        "a scope claimed for another run",
        _changed(bundle, "scopes", -1, "scope", to=lambda _: "run:x@9/y"),
        {1},
    )


def _swap_scopes(bundle: Bundle, a: int, b: int) -> None:
    scopes = bundle["scopes"]
    scopes[a]["scope"], scopes[b]["scope"] = scopes[b]["scope"], scopes[a]["scope"]


@pytest.mark.parametrize(
    ("label", "other"),
    [
        ("domain", "example.com"),
        ("host", "example.com"),
        ("idn", "example.jp"),
        ("absent", "example.jp"),
        ("first", "example.com"),
        ("last", "xn--r8jz45g.jp"),
        ("absent-host", "www.example.jp"),
    ],
)
def test_an_altered_record_checkpoint_name_table_or_scope_fails(
    bundles: Path, key: str, label: str, other: str
) -> None:
    bundle = load(bundles, label)
    for what, changed, _ in _record_mutations(bundle, other):
        assert not verifies(changed, key), what


@pytest.mark.parametrize(("label", "other"), [("domain", "example.com"), ("absent", "example.jp")])
def test_kiroku_verify_exits_1_on_each_kind_of_alteration(
    bundles: Path, key: str, label: str, other: str, tmp_path: Path
) -> None:
    """The command's exit codes, for one alteration of each kind (the loops above cover every one)."""
    bundle = load(bundles, label)
    assert cli_verify(bundle, key, tmp_path) == 0
    first_scope = [(w, c) for w, c in _every_entry_mutation(bundle) if w.startswith("(0,")]
    kinds = ("count 0", "salt", "digest", "proof 0", "position +1", "dropped")
    picked = [next(((w, c) for w, c in first_scope if kind in w), ("", bundle)) for kind in kinds]
    picked = [(w, c) for w, c in picked if w]
    picked += [(w, c) for w, c in _in_every_scope(bundle) if w.endswith(("key", "neighbour 0 dropped"))]
    chosen = ("checkpoint root", "checkpoint signature", "body scope 1 root", "name")
    picked += [(w, c) for w, c, _ in _record_mutations(bundle, other) if w in chosen]
    assert len(picked) >= 9
    for what, changed in picked:
        assert cli_verify(changed, key, tmp_path) == 1, what


def test_a_present_name_cannot_be_proved_absent_by_its_real_neighbours(
    bundles: Path, catalog: Path, key: str
) -> None:
    """Replace the name's entry by the entries around it (genuine leaves with genuine proofs): it must fail."""
    index = DomainIndex.open(Workspace.open(catalog).index_dir)
    bundle = load(bundles, "domain")
    for pick in ((-1, 1), (-1, 0), (0, 1), (-1,), (1,)):
        forged = copy.deepcopy(bundle)
        for scope in forged["scopes"]:
            table = index.table(scope["scope"], bundle["table"])
            position = scope["entry"]["position"]
            scope["entry"] = None
            scope["neighbours"] = [
                {
                    "position": p,
                    "key": table.key(p).hex(),
                    "digest": table.digest(p).hex(),
                    "proof": [base64.b64encode(h).decode() for h in table.proof(p)],
                }
                for p in (position + d for d in pick)
                if 0 <= p < table.size
            ]
        assert not verifies(forged, key), pick


def test_another_logs_key_does_not_verify(bundles: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    ok("init", str(other), "--org", "Other", "--origin", "test.kiroku/ledger", cwd=tmp_path)
    assert cli_verify(load(bundles, "domain"), verifier_key(other), tmp_path) in (1, 2)


@pytest.mark.parametrize(
    "damage",
    [
        "truncated",
        "format",
        "extra field",
        "count as text",
        "proof not base64",
        "bad name",
    ],
)
def test_a_malformed_bundle_exits_2(bundles: Path, key: str, damage: str, tmp_path: Path) -> None:
    text = (bundles / "domain.json").read_bytes()
    bundle = json.loads(text)
    if damage == "truncated":
        assert cli_verify(text[: len(text) // 2], key, tmp_path) == 2
        return
    if damage == "format":
        bundle["format"] = "kiroku.domain/v0"
    elif damage == "extra field":
        bundle["scopes"][0]["comment"] = "trust me"
    elif damage == "count as text":
        bundle["scopes"][0]["entry"]["counts"][0] = "many"
    elif damage == "proof not base64":
        bundle["scopes"][0]["entry"]["proof"][0] = "not base64!"
    else:
        bundle["name"] = "Example.JP"
    result = kiroku("verify", str(_write(tmp_path, bundle)), "--key", key, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with pytest.raises(BundleError):
        verify_domain_bundle(json.dumps(bundle), Verifier.from_vkey(key))


def _write(folder: Path, bundle: Bundle) -> Path:
    path = folder / "bundle.json"
    path.write_text(json.dumps(bundle))
    return path


# -- empty tables ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def no_urls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace whose only documents have no URL, with a stage and a run over them: every table empty."""
    root = tmp_path_factory.mktemp("nourls") / "ws"
    init_workspace(root, None)
    pq.write_table(pa.Table.from_pylist(BOOKS), root / "books.parquet")
    ok("source", "add", "books", "--type", "public_dataset", cwd=root)
    ok("ingest", "parquet", "books.parquet", "--source", "books", cwd=root)
    (root / "kept.txt").write_text("b1\nb2\n")
    ok("stage", "record", "clean", "--input", "catalog", "--kept", "kept.txt", cwd=root)
    (root / "run.toml").write_text(
        'name = "r"\nmodel = "m"\nversion = "1"\nmethods = ["pre-training"]\ntraining_tokens = 1\n'
        'start = 2026-07-01\nend = 2026-07-02\nweight_unit = "share"\n[architecture]\nfamily = "f"\n'
        'parameters = 1\n[[data_mix]]\nstage = "clean"\nweight = 1.0\n'
    )
    ok("run", "record", "run.toml", cwd=root)
    ok("index", "domains", cwd=root)
    return root


def test_non_membership_in_empty_tables_verifies_and_cannot_be_padded(no_urls: Path, tmp_path: Path) -> None:
    key = verifier_key(no_urls)
    path = tmp_path / "empty.json"
    ok("query", "domain", "example.com", "--bundle", str(path), cwd=no_urls)
    bundle = json.loads(path.read_text())
    assert [s["scope"] for s in bundle["scopes"]] == ["catalog", "stage:clean", "run:m@1/r"]
    assert all(s["entry"] is None and s["neighbours"] == [] for s in bundle["scopes"])
    assert all(s["domain"]["size"] == 0 for s in bundle["record"]["body"]["scopes"])
    assert cli_verify(bundle, key, tmp_path) == 0
    padded = copy.deepcopy(bundle)
    for scope in padded["scopes"]:
        scope["neighbours"] = [{"position": 0, "key": "0" * 64, "digest": "0" * 64, "proof": []}]
    assert cli_verify(padded, key, tmp_path) == 1
    grown = copy.deepcopy(bundle)
    for scope in grown["record"]["body"]["scopes"]:
        scope["domain"]["size"] = 1
    assert not verifies(grown, key)
    answer = json.loads(ok("query", "domain", "news.example.co.jp", "--json", cwd=no_urls))
    assert (answer["appeared"], answer["fetched"], answer["kept"], answer["runs"]) == (False, 0, 0, {})


def test_a_bundle_without_the_catalog_scope_fails(bundles: Path, key: str) -> None:
    """Leaving the catalog out would let a bundle stay silent on whether the name appeared at all."""
    for label in ("domain", "absent"):
        bundle = load(bundles, label)
        assert verifies(bundle, key)
        bundle["scopes"] = [proof for proof in bundle["scopes"] if proof["scope"] != "catalog"]
        assert not verifies(bundle, key)


def test_no_answer_and_no_bundle_from_an_index_file_altered_on_disk(catalog: Path, tmp_path: Path) -> None:
    """A count changed in a table file (same shape, so the index opens) fails the entry's check against the
    committed root: the plain answer and the bundle both exit 1, and no bundle is written."""
    copy_root = tmp_path / "ws"
    shutil.copytree(catalog, copy_root)
    index = DomainIndex.open(Workspace.open(copy_root).index_dir)
    table = index.table("catalog", "domain")
    position = table.search(name_key("example.jp")).position
    path = table_files(index.directory, index.scope("catalog").stem, "domain")["entries"]
    entries = np.load(path, mmap_mode="r+")
    entries[position, -1] ^= 0x01  # the last byte of the last count
    entries.flush()
    del entries
    path = tmp_path / "bundle.json"
    result = kiroku("query", "domain", "example.jp", "--bundle", str(path), cwd=copy_root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert not path.exists()
    plain = kiroku("query", "domain", "example.jp", "--json", cwd=copy_root)
    assert plain.returncode == 1, plain.stdout + plain.stderr
    assert "does not match the root" in plain.stderr
    assert (
        kiroku("query", "domain", "example.com", "--json", cwd=copy_root).returncode == 0
    )  # others still answer
