"""Trace bundles of answers that cite documents through the semantic tier: each such document is proved too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiroku.ledger import Verifier
from kiroku.trace.bundle import verify_trace_bundle
from kiroku.trace.semantic import semantic_available
from tests.trace.conftest import ok
from tests.trace.test_bundle import cli_verify, fails
from tests.trace.test_semantic_cli import PARAPHRASES, semantic_ws  # noqa: F401 (the fixture)

pytestmark = pytest.mark.skipif(
    not semantic_available(), reason="the semantic extra is not installed (pip install 'kiroku[semantic]')"
)


def test_semantic_citations_are_proved_and_bound_to_their_proofs(
    semantic_ws: Path,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
) -> None:
    url, paraphrase = next(iter(PARAPHRASES.items()))
    (semantic_ws / "paraphrase.txt").write_text(paraphrase, encoding="utf-8")
    ok("trace", "--file", "paraphrase.txt", "--bundle", "semantic.bundle.json", cwd=semantic_ws)
    bundle = json.loads((semantic_ws / "semantic.bundle.json").read_text(encoding="utf-8"))
    key = ok("log", "key", cwd=semantic_ws).strip()
    semantic = bundle["answer"]["semantic"]
    assert semantic and semantic[0]["url"] == url
    assert verify_trace_bundle(json.dumps(bundle), Verifier.from_vkey(key)).documents == len(
        bundle["documents"]
    )
    assert cli_verify(bundle, key, tmp_path / "outsider")[0] == 0

    stray = json.loads(json.dumps(bundle))
    stray["answer"]["semantic"][0]["catalog_record"] += 1000
    fails(stray, key, "semantic[0]")

    # cited by the semantic tier alone, the document still needs its proof
    cited = semantic[0]["id"]
    alone = json.loads(json.dumps(bundle))
    answer = alone["answer"]
    answer["similar"] = [d for d in answer["similar"] if d["id"] != cited]
    answer["passages"] = [d for d in answer["passages"] if d["id"] != cited]
    for span in answer["spans"]:
        span["documents"] = [d for d in span["documents"] if d["id"] != cited]
    assert verify_trace_bundle(json.dumps(alone), Verifier.from_vkey(key)).documents == len(
        alone["documents"]
    )
    alone["documents"] = [d for d in alone["documents"] if cited not in json.dumps(d)]
    fails(alone, key, cited[:16])


def test_a_claim_about_the_semantic_tier_must_match_the_record(
    semantic_ws: Path,  # noqa: F811 (the fixture imported above)
) -> None:
    ok("trace", "--text", PARAPHRASES[next(iter(PARAPHRASES))], "--stage", "clean", "--bundle", "plain.json",
       cwd=semantic_ws)  # fmt: skip
    bundle = json.loads((semantic_ws / "plain.json").read_text(encoding="utf-8"))
    key = ok("log", "key", cwd=semantic_ws).strip()
    assert bundle["answer"]["index"]["semantic"] is False and bundle["answer"]["semantic"] is None
    bundle["answer"]["index"]["semantic"] = True
    fails(bundle, key, "index.semantic")
