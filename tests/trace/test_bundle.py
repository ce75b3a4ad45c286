"""``kiroku trace --bundle`` and ``kiroku verify``: a trace answer proved against one signed checkpoint.

Bundles are made by the real command on the traced workspace (a copied passage, a near copy, new text, and the
copy traced against the stage and the run) and checked by someone holding nothing but the bundle and the public
key, in a folder of their own. Then every part the bundle proves is altered, one at a time, and each must fail
with a message naming what is wrong: the answer's index figures, each citation's shard and source, the set of
document proofs, any proof hash, the checkpoint, the index record itself, the scope, the key, the file.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kiroku.catalog.shards import doc_id_of
from kiroku.ledger import BundleError, LedgerError, NoteError, Verifier
from kiroku.ledger.note import InvalidSignature, UnknownKey
from kiroku.trace.bundle import TraceBundle, VerifiedTrace, cited_documents, verify_trace_bundle
from kiroku.trace.errors import TraceBundleError
from kiroku.trace.record import read_manifest
from kiroku.workspace import Workspace
from tests.conftest import kiroku
from tests.trace.conftest import ok, stdlib_documents
from tests.trace.test_trace_cli import NOVEL, NOVEL_2, excerpt

Bundle = dict[str, Any]

NEW_TEXT = "Zorblax quindle frumious glimmerwick snorkvane plimbrous tarvelish quozzle."


def _near_copy() -> str:
    words = excerpt(stdlib_documents()[3]["text"], 0, 64).split()
    for i in range(3, len(words), 12):  # every twelfth word changed: no verbatim run of 12 tokens survives
        words[i] = "zyzzyva"
    return " ".join(words)


def dropped_ids(traced: Path) -> set[str]:
    """Ids of the documents the stage dropped."""
    return {json.loads(line)["id"] for line in (traced / "clean.dropped.jsonl").read_text().splitlines()}


def victim(traced: Path) -> dict[str, str]:
    """A document the stage dropped (the catalog holds it, the stage's kept set does not), with its id."""
    dropped = dropped_ids(traced)
    found = next(d for d in stdlib_documents() if doc_id_of(d["text"]).hex() in dropped)
    return {**found, "id": doc_id_of(found["text"]).hex()}


COPIED = f"{NOVEL} {excerpt(stdlib_documents()[10]['text'], 5, 40)} {NOVEL_2}"
OUTPUTS: dict[str, tuple[Callable[[Path], str], list[str]]] = {
    "copy": (lambda _: COPIED, []),
    "near": (lambda _: _near_copy(), ["--min-length", "12"]),
    "new": (lambda _: NEW_TEXT, []),
    "stage": (lambda _: COPIED, ["--stage", "clean"]),
    "run": (lambda _: COPIED, ["--run", "pretrain"]),
    "dropped": (lambda traced: excerpt(victim(traced)["text"], 0, 30), []),
}
SCOPES = {"copy": "catalog", "near": "catalog", "new": "catalog", "dropped": "catalog"}
SCOPES |= {"stage": "stage:clean", "run": "run:kiroku-test@1/pretrain"}


@pytest.fixture(scope="module")
def bundles(traced: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bundle file per entry of OUTPUTS, written by ``kiroku trace --bundle`` into a folder of their own."""
    folder = tmp_path_factory.mktemp("trace-bundles")
    for label, (output, args) in OUTPUTS.items():
        (traced / f"bundle-{label}.txt").write_text(output(traced), encoding="utf-8")
        said = ok(
            "trace",
            "--file",
            f"bundle-{label}.txt",
            "--bundle",
            str(folder / f"{label}.json"),
            *args,
            cwd=traced,
        )
        assert "Proof written to" in said
    return folder


@pytest.fixture(scope="module")
def key(traced: Path) -> str:
    """The log's public (verifier) key, as ``kiroku log key`` prints it."""
    return ok("log", "key", cwd=traced).strip()


@pytest.fixture(scope="module")
def index_records(traced: Path) -> dict[str, int]:
    """Each scope's trace.index record, from the index manifests."""
    found = {}
    for manifest in (Workspace.open(traced).index_dir / "trace").glob("*/manifest.json"):
        read = read_manifest(manifest.parent)
        found[read.index.scope] = read.record
    return found


def load(bundles: Path, label: str) -> Bundle:
    """A bundle as plain JSON data, to alter."""
    data = json.loads((bundles / f"{label}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def rejection(bundle: Bundle | bytes, key: str) -> Exception:
    """The error `verify_trace_bundle` raises on ``bundle``; the test fails if it verifies."""
    data = bundle if isinstance(bundle, bytes) else json.dumps(bundle)
    try:
        verify_trace_bundle(data, Verifier.from_vkey(key))
    except (LedgerError, NoteError, TraceBundleError) as exc:
        return exc
    pytest.fail("an altered bundle verified")


def fails(bundle: Bundle, key: str, *words: str) -> None:
    """``bundle`` does not verify, and the message holds every one of ``words``."""
    message = str(rejection(bundle, key))
    for word in words:
        assert word in message, message


def cli_verify(bundle: Bundle | bytes, key: str, folder: Path) -> tuple[int, str]:
    """``kiroku verify`` run in ``folder`` on the bundle and the key, each written there as a file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bundle.json").write_bytes(bundle if isinstance(bundle, bytes) else json.dumps(bundle).encode())
    (folder / "public.key").write_text(key + "\n")
    result = kiroku("verify", "bundle.json", "--key", "public.key", cwd=folder)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout + result.stderr


def changed(bundle: Bundle, *path: str | int, to: Callable[[Any], Any]) -> Bundle:
    """A copy of ``bundle`` with the value at ``path`` replaced by ``to(value)``."""
    result = copy.deepcopy(bundle)
    node: Any = result
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = to(node[path[-1]])
    return result


def const(value: Any) -> Callable[[Any], Any]:
    """A change that puts ``value`` in place of whatever was there."""
    return lambda _: value


def flip_b64(value: str, at: int = 0) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[at % len(raw)] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def flip_hex(value: str) -> str:
    return ("1" if value[0] == "0" else "0") + value[1:]


def citations(answer: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every citation of an answer with its path in the answer."""
    for s, span in enumerate(answer["spans"]):
        for d, doc in enumerate(span["documents"]):
            yield ("spans", s, "documents", d), doc
    for part in ("passages", "similar"):
        for i, doc in enumerate(answer[part]):
            yield (part, i), doc


# -- they verify, offline, with the key alone --------------------------------------------------------------------


@pytest.mark.parametrize("label", ["copy", "near", "new", "stage", "run"])
def test_a_bundle_verifies_in_another_folder_with_the_public_key_alone(
    bundles: Path, key: str, index_records: dict[str, int], tmp_path: Path, label: str
) -> None:
    bundle = load(bundles, label)
    answer = bundle["answer"]
    cited = cited_documents(answer)
    assert [d["doc_id"] for d in bundle["documents"]] == cited  # one proof per cited document, in order
    if label == "copy":
        source = stdlib_documents()[10]["url"]
        assert answer["spans"] and source in {d["url"] for s in answer["spans"] for d in s["documents"]}
    elif label in ("stage", "run"):  # the stage dropped the copied document; another holds the passage too
        assert answer["spans"] and answer["spans"][0]["documents"]
    elif label == "near":
        assert answer["spans"] == [] and answer["passages"]
        assert stdlib_documents()[3]["url"] in {p["url"] for p in answer["passages"]}
    else:
        assert answer["spans"] == answer["passages"] == answer["similar"] == [] and cited == []
    elsewhere = tmp_path / "elsewhere"  # neither the workspace nor anything under it
    code, said = cli_verify((bundles / f"{label}.json").read_bytes(), key, elsewhere)
    assert code == 0, said
    scope, record = SCOPES[label], index_records[SCOPES[label]]
    assert said.startswith(f"OK: a trace of {scope} ")
    assert f"trace index of record {record} in log test.kiroku/ledger" in said
    assert f"all {len(cited)} cited document(s) proved" in said
    assert sorted(p.name for p in elsewhere.iterdir()) == ["bundle.json", "public.key"]


def test_the_python_api_takes_text_bytes_or_a_parsed_bundle_and_says_what_is_proved(
    bundles: Path, key: str, index_records: dict[str, int]
) -> None:
    verifier = Verifier.from_vkey(key)
    for label in ("copy", "near", "new", "stage", "run"):
        path = bundles / f"{label}.json"
        bundle = load(bundles, label)
        results = {
            verify_trace_bundle(path.read_text(encoding="utf-8"), verifier),
            verify_trace_bundle(path.read_bytes(), verifier),
            verify_trace_bundle(TraceBundle.model_validate_json(path.read_bytes()), verifier),
        }
        assert len(results) == 1
        size = int(bundle["index"]["checkpoint"].split("\n")[1])
        assert results.pop() == VerifiedTrace(
            origin="test.kiroku/ledger",
            tree_size=size,
            record=index_records[SCOPES[label]],
            scope=SCOPES[label],
            coverage=bundle["answer"]["coverage"],
            spans=len(bundle["answer"]["spans"]),
            documents=len(cited_documents(bundle["answer"])),
        )


# -- the answer's figures that a proof covers --------------------------------------------------------------------


INDEX_FIGURES: list[tuple[str, Callable[[Any], Any]]] = [
    ("ledger_size", lambda v: v + 1),
    ("ledger_size", lambda v: v - 1),
    ("documents", lambda v: v + 1),
    ("documents", lambda v: v - 1),
    ("tokens", lambda v: v + 1),
    ("tokens", lambda v: v * 2),
    ("shards", lambda v: v + 1),
    ("shards", lambda v: v - 1),
    ("tokenizer", lambda v: v + "x"),
]


@pytest.mark.parametrize("label", ["copy", "near", "new", "stage", "run"])
def test_a_changed_index_figure_record_or_scope_in_the_answer_fails(
    bundles: Path, key: str, index_records: dict[str, int], label: str
) -> None:
    bundle = load(bundles, label)
    record = bundle["index"]["index"]
    for field, change in INDEX_FIGURES:
        fails(changed(bundle, "answer", "index", field, to=change), key, f"index.{field}", f"record {record}")
    for other in {record - 1, record + 1, *index_records.values()} - {record}:
        fails(
            changed(bundle, "answer", "index", "record", to=const(other)),
            key,
            f"names trace index record {other}, but the bundle proves record {record}",
        )
    for scope in {*SCOPES.values(), "stage:other"} - {SCOPES[label]}:
        fails(changed(bundle, "answer", "scope", to=const(scope)), key, "scope", repr(scope))


@pytest.mark.parametrize("label", ["copy", "near"])
def test_a_citation_from_another_shard_or_source_or_of_another_document_fails(
    bundles: Path, key: str, label: str
) -> None:
    """The first citation of each part of the answer with every other shard record, its source and its id
    changed; every other citation with a shard the index did not read and one it read but the document is not in."""
    bundle = load(bundles, label)
    read = set(bundle["index"]["body"]["catalog_shards"])
    tree_size = bundle["index"]["tree_size"]
    proofs = {d["doc_id"]: d for d in bundle["documents"]}
    seen: set[str] = set()
    tried = 0
    for path, doc in citations(bundle["answer"]):
        really = {m["record"] for m in proofs[doc["id"]]["memberships"] if m["set"] == "shard"}
        where = (
            "answer " + str(path[0]) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:])
        )
        others = [o for o in range(tree_size + 1) if o not in really]
        first = path[0] not in seen
        seen.add(str(path[0]))
        if not first:
            others = [o for o in others if o in read][:1] + [o for o in others if o not in read][:1]
        for other in others:
            words = ("did not read",) if other not in read else ("its proof places it in shard record(s)",)
            altered = changed(bundle, "answer", *path, "catalog_record", to=const(other))
            fails(altered, key, where, *words)
            tried += 1
        if first:
            fails(changed(bundle, "answer", *path, "source", to=lambda s: f"{s}-x"), key, where, "source")
            fails(changed(bundle, "answer", *path, "id", to=flip_hex), key, where, "holds no proof")
    assert len(seen) >= 2 and tried > len(list(citations(bundle["answer"])))


def test_the_bundle_holds_a_proof_of_each_cited_document_and_of_nothing_else(bundles: Path, key: str) -> None:
    bundle = load(bundles, "copy")
    cited = cited_documents(bundle["answer"])
    assert len(cited) >= 3
    for i, doc in enumerate(bundle["documents"]):
        missing = copy.deepcopy(bundle)
        del missing["documents"][i]
        fails(missing, key, f"cites document {doc['doc_id']}, but the bundle holds no proof of it")
    twice = copy.deepcopy(bundle)
    twice["documents"].append(copy.deepcopy(bundle["documents"][0]))
    fails(twice, key, f"two proofs of document {cited[0]}")
    # a document the answer no longer cites: its citations dropped, its proof left in
    last = cited[-1]
    uncited = copy.deepcopy(bundle)
    for span in uncited["answer"]["spans"]:
        span["documents"] = [d for d in span["documents"] if d["id"] != last]
    for part in ("passages", "similar"):
        uncited["answer"][part] = [d for d in uncited["answer"][part] if d["id"] != last]
    fails(uncited, key, f"proof of document {last}, which the answer does not cite")
    # and a document proof of another document, put in place of a cited one
    other = load(bundles, "dropped")["documents"][0]
    assert other["doc_id"] not in cited
    swapped = copy.deepcopy(bundle)
    swapped["documents"][0] = other
    fails(swapped, key, f"cites document {cited[0]}, but the bundle holds no proof of it")


def test_a_document_the_scope_does_not_hold_cannot_be_cited_from_it(
    bundles: Path, key: str, traced: Path
) -> None:
    """A stage's (or run's) answer citing a document the stage dropped: the document is in a shard the index
    read, with a valid proof, but the proof shows the stage dropped it, so the answer cannot cite it from there."""
    dropped = load(bundles, "dropped")
    doc = victim(traced)["id"]
    citation = next(c for _, c in citations(dropped["answer"]) if c["id"] == doc)
    proof = next(d for d in dropped["documents"] if d["doc_id"] == doc)
    assert any(m["set"] == "stage.dropped" for m in proof["memberships"])
    for label, words in (("stage", "kept it"), ("run", "trained on it")):
        bundle = load(bundles, label)
        assert bundle["index"]["checkpoint"] == dropped["index"]["checkpoint"]
        assert doc not in cited_documents(bundle["answer"])
        scope_record = bundle["index"]["body"]["scope_record"]
        forged = copy.deepcopy(bundle)
        forged["answer"]["similar"].append(citation)
        forged["documents"].append(proof)
        fails(forged, key, f"document {doc} is cited from {SCOPES[label]}", f"record {scope_record} {words}")


# -- the proofs themselves ---------------------------------------------------------------------------------------


def _hash_mutations(bundle: Bundle) -> Iterator[tuple[str, Bundle]]:
    """Every hash of the index record's proof and of the first document's proofs; for the other documents, the
    first hash of their first record's and first membership's proofs, and the record's body digest."""
    for i in range(len(bundle["index"]["proof"])):
        yield f"index proof {i}", changed(bundle, "index", "proof", i, to=partial(flip_b64, at=i))
    yield "index body digest", changed(bundle, "index", "entry", "body_sha256", to=flip_hex)
    yield "index body", changed(bundle, "index", "body", "documents", to=lambda v: v + 1)
    yield "index leaf", changed(bundle, "index", "index", to=lambda v: v - 1)
    for d, document in enumerate(bundle["documents"]):
        every = d == 0
        for r, record in enumerate(document["records"] if every else document["records"][:1]):
            for i in range(len(record["proof"]) if every else min(1, len(record["proof"]))):
                yield (
                    f"document {d} record {r} proof {i}",
                    changed(bundle, "documents", d, "records", r, "proof", i, to=flip_b64),
                )
            yield (
                f"document {d} record {r} body digest",
                changed(bundle, "documents", d, "records", r, "entry", "body_sha256", to=flip_hex),
            )
        for m, member in enumerate(document["memberships"] if every else document["memberships"][:1]):
            for i in range(len(member["proof"]) if every else min(1, len(member["proof"]))):
                yield (
                    f"document {d} membership {m} proof {i}",
                    changed(bundle, "documents", d, "memberships", m, "proof", i, to=flip_b64),
                )
            if every:
                yield (
                    f"document {d} membership {m} position",
                    changed(bundle, "documents", d, "memberships", m, "position", to=lambda p: p ^ 1),
                )


def test_an_altered_proof_hash_fails(bundles: Path, key: str) -> None:
    bundle = load(bundles, "copy")
    tried = 0
    for what, altered in _hash_mutations(bundle):
        error = rejection(altered, key)
        assert isinstance(error, TraceBundleError), (what, error)
        message = str(error)
        if what.startswith("index"):
            assert "trace index record is not proved" in message, (what, message)
        else:
            assert "the proof of document" in message and "does not verify" in message, (what, message)
        tried += 1
    assert tried > 40


def _note_line(note: str, line: int, to: Callable[[str], str]) -> str:
    lines = note.split("\n")
    lines[line] = to(lines[line])
    return "\n".join(lines)


def _every_checkpoint(bundle: Bundle, line: int, to: Callable[[str], str]) -> Bundle:
    """The bundle with one line of its checkpoint changed, the same way everywhere the checkpoint appears."""
    result = copy.deepcopy(bundle)
    result["index"]["checkpoint"] = _note_line(result["index"]["checkpoint"], line, to)
    for document in result["documents"]:
        for record in document["records"]:
            record["checkpoint"] = _note_line(record["checkpoint"], line, to)
    return result


def _signature(line: str) -> str:
    head, _, signature = line.rpartition(" ")
    return f"{head} {flip_b64(signature, 20)}"


def test_an_altered_checkpoint_fails(bundles: Path, key: str, tmp_path: Path) -> None:
    bundle = load(bundles, "copy")
    for what, line, to in (
        ("size", 1, lambda size: str(int(size) + 1)),
        ("root", 2, lambda root: flip_b64(root, 7)),
        ("signature", 4, _signature),
    ):
        altered = _every_checkpoint(bundle, line, to)
        error = rejection(altered, key)
        assert isinstance(error, InvalidSignature), what
        assert "does not verify" in str(error) and "checkpoint" in str(error)
        code, said = cli_verify(altered, key, tmp_path / what)
        assert code == 1 and "signature" in said, said
    fails(changed(bundle, "index", "tree_size", to=lambda v: v + 1), key, "tree size")
    # one document proved against a checkpoint of its own (here: altered) instead of the index record's
    lone = copy.deepcopy(bundle)
    for record in lone["documents"][0]["records"]:
        record["checkpoint"] = _note_line(record["checkpoint"], 4, _signature)
    fails(lone, key, f"document {lone['documents'][0]['doc_id']} is proved against another checkpoint")


def test_an_index_proof_of_another_record_fails(
    bundles: Path, key: str, traced: Path, index_records: dict[str, int]
) -> None:
    bundle = load(bundles, "copy")
    checkpoint = bundle["index"]["checkpoint"]
    ws = Workspace.open(traced)
    with ws.ledger() as ledger:
        kinds = {i: ledger.record(i).entry.kind for i in range(bundle["index"]["tree_size"])}

        def proof_of(index: int) -> dict[str, Any]:
            proof = ledger.prove(index, verifier=ws.verifier(), checkpoint=checkpoint)
            data: dict[str, Any] = json.loads(proof.to_json())
            return data

        proofs = {i: proof_of(i) for i in kinds}
    own = bundle["index"]["index"]
    assert proofs[own] == bundle["index"]
    for index, kind in kinds.items():
        if index == own:
            continue
        other = changed(bundle, "index", to=const(proofs[index]))
        if kind == "trace.index":
            fails(other, key, f"names trace index record {own}, but the bundle proves record {index}")
        else:
            fails(other, key, f"the index proof is of record {index}, a {kind} record")
    stage = index_records["stage:clean"]
    # the stage index's body under this record's proof, or this body under the stage record's number
    fails(
        changed(bundle, "index", "body", to=lambda _: proofs[stage]["body"]), key, "does not match the digest"
    )
    fails(changed(bundle, "index", "index", to=lambda _: stage), key, f"record {stage} is not proved")


def test_an_answer_relabelled_as_another_scopes_fails_on_what_that_scope_does_not_hold(
    bundles: Path, key: str, traced: Path, index_records: dict[str, int]
) -> None:
    """The catalog answer given the stage index's proof, with its scope and every index figure rewritten to
    match: the rewrite verifies as far as the index goes, and fails on the document the stage dropped."""
    bundle = load(bundles, "dropped")
    ws = Workspace.open(traced)
    stage = index_records["stage:clean"]
    with ws.ledger() as ledger:
        proof = json.loads(
            ledger.prove(stage, verifier=ws.verifier(), checkpoint=bundle["index"]["checkpoint"]).to_json()
        )
    body = proof["body"]
    forged = copy.deepcopy(bundle)
    forged["index"] = proof
    forged["answer"]["scope"] = body["scope"]
    forged["answer"]["index"].update(
        record=stage,
        ledger_size=body["ledger_size"],
        documents=body["documents"],
        tokens=body["tokens"],
        shards=len(body["shards"]),
    )
    message = str(rejection(forged, key))
    assert "is cited from stage:clean" in message and f"record {body['scope_record']} kept it" in message, (
        message
    )
    named = message.split("document ")[1].split(" ")[0]
    assert named in dropped_ids(traced)


# -- the key and the file ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["test.kiroku/ledger", "other.kiroku/ledger"])
def test_another_logs_key_does_not_verify(bundles: Path, tmp_path: Path, origin: str) -> None:
    other = tmp_path / "other"
    ok("init", str(other), "--org", "Other", "--origin", origin, cwd=tmp_path)
    wrong = ok("log", "key", cwd=other).strip()
    error = rejection((bundles / "copy.json").read_bytes(), wrong)
    assert isinstance(error, UnknownKey)
    code, said = cli_verify((bundles / "copy.json").read_bytes(), wrong, tmp_path / "check")
    assert code == 2 and "no signature by key" in said and "kiroku log key" in said, said


def _answer_field(path: tuple[str | int, ...], value: Any) -> Callable[[Bundle], None]:
    def change(bundle: Bundle) -> None:
        node: Any = bundle["answer"]
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


MALFORMED: dict[str, tuple[Callable[[Bundle], None] | None, str]] = {
    "truncated": (None, "not a JSON document"),
    "format": (lambda b: b.update(format="kiroku.trace/v0"), "format"),
    "extra field": (lambda b: b.update(comment="trust me"), "comment"),
    "no answer": (lambda b: b.pop("answer"), "answer"),
    "record as text": (_answer_field(("index", "record"), "7"), "answer.index.record"),
    "no scope": (lambda b: b["answer"].pop("scope"), "answer.scope"),
    "citation without shard": (
        lambda b: b["answer"]["spans"][0]["documents"][0].pop("catalog_record"),
        "catalog_record",
    ),
    "citation id not hex": (_answer_field(("similar", 0, "id"), "Z" * 64), "answer.similar.0.id"),
    "spans not a list": (_answer_field(("spans",), {"0": {}}), "answer.spans"),
    "proof not base64": (lambda b: b["index"]["proof"].__setitem__(0, "not base64!"), "index.proof"),
}


@pytest.mark.parametrize("damage", list(MALFORMED))
def test_a_file_that_is_not_a_trace_bundle_exits_2_naming_the_problem(
    bundles: Path, key: str, tmp_path: Path, damage: str
) -> None:
    text = (bundles / "copy.json").read_bytes()
    change, words = MALFORMED[damage]
    if change is None:
        data = text[: len(text) // 2]
    else:
        bundle = json.loads(text)
        change(bundle)
        data = json.dumps(bundle).encode()
    code, said = cli_verify(data, key, tmp_path)
    assert code == 2, said
    assert words in said and len(said.strip().splitlines()) == 1, said
    error = rejection(data, key)
    assert isinstance(error, BundleError) and words in str(error), error


def test_other_json_and_other_bundles_are_not_trace_bundles(bundles: Path, key: str, tmp_path: Path) -> None:
    for data in (b"[]", b"{}", b"", json.dumps({"format": "kiroku.trace/v1"}).encode()):
        assert isinstance(rejection(data, key), BundleError), data
        code, said = cli_verify(data, key, tmp_path)
        assert code == 2, said
    # a document bundle is checked as what it is, and is no trace bundle
    document = json.dumps(load(bundles, "copy")["documents"][0]).encode()
    assert cli_verify(document, key, tmp_path)[0] == 0
    assert "not a trace bundle" in str(rejection(document, key))


# -- the command's exit codes ------------------------------------------------------------------------------------


def test_kiroku_verify_exits_1_and_names_what_is_wrong(bundles: Path, key: str, tmp_path: Path) -> None:
    """One alteration of each kind through the command (the loops above cover every one through the API)."""
    bundle = load(bundles, "copy")
    record = bundle["index"]["index"]
    doc = bundle["answer"]["spans"][0]["documents"][0]
    cases = {
        "answer record": (
            changed(bundle, "answer", "index", "record", to=lambda v: v + 1),
            "names trace index record",
        ),
        "answer documents": (
            changed(bundle, "answer", "index", "documents", to=lambda v: v - 1),
            "index.documents",
        ),
        "answer scope": (changed(bundle, "answer", "scope", to=lambda _: "stage:clean"), "scope"),
        "citation shard": (
            changed(bundle, "answer", "spans", 0, "documents", 0, "catalog_record", to=lambda _: 0),
            f"document {doc['id']} is cited from catalog shard record 0, which trace index record {record} did not",
        ),
        "proof hash": (changed(bundle, "index", "proof", 0, to=flip_b64), "is not proved in the log"),
        "document proof hash": (
            changed(bundle, "documents", 0, "memberships", 0, "proof", 0, to=flip_b64),
            "membership proof does not lead to the committed root",
        ),
        "missing proof": (changed(bundle, "documents", to=lambda d: d[1:]), "holds no proof"),
    }
    for what, (altered, words) in cases.items():
        code, said = cli_verify(altered, key, tmp_path / what.replace(" ", "-"))
        assert code == 1, (what, said)
        assert said.startswith("kiroku: error: ") and words in said, (what, said)
        assert "ask its sender" in said, (what, said)


# -- and what it does not prove ----------------------------------------------------------------------------------


def test_what_the_output_and_the_index_files_alone_could_show_is_not_proved(bundles: Path, key: str) -> None:
    """The answer's spans, coverage, scores and URLs are computed from the output and the index files, which the
    bundle does not carry: changing them still verifies (the module docstring says so; if these become proved,
    change it and this test). The report shows coverage and span count as the answer states them."""
    bundle = load(bundles, "copy")
    restated = copy.deepcopy(bundle)
    restated["answer"]["coverage"] = 0.9
    restated["answer"]["spans"][0]["count"] += 100
    restated["answer"]["spans"][0]["text"] = "something else"
    restated["answer"]["spans"][0]["documents"][0]["url"] = "https://elsewhere.example/"
    restated["answer"]["similar"][0]["score"] = 99.0
    verified = verify_trace_bundle(json.dumps(restated), Verifier.from_vkey(key))
    assert verified.coverage == 0.9
