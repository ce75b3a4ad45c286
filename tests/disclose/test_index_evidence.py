"""Evidence for principles 2 and 3: the catalog's domain and trace indexes, built or not, and what they cover."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kiroku.disclose.index_evidence import domain_index_evidence, trace_index_evidence
from kiroku.workspace import Workspace
from tests.conftest import kiroku


def ok(*args: str, cwd: Path) -> None:
    result = kiroku(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr


def test_indexes_missing_then_built_then_behind(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    ok("init", str(root), "--org", "Test Org", "--origin", "test.kiroku/ledger", cwd=tmp_path)
    pages = [
        {"url": f"https://site{i}.example/a", "text": f"page {i} about tea and rivers " * 5}
        for i in range(30)
    ]
    (root / "a.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pages[:20]))
    (root / "b.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pages[20:]))
    ok("source", "add", "crawl", "--type", "web_crawl", cwd=root)
    ok("ingest", "jsonl", "a.jsonl", "--source", "crawl", cwd=root)
    ws = Workspace.open(root)

    def evidence() -> tuple[dict[str, Any], dict[str, Any]]:
        with ws.ledger() as ledger:
            domain = domain_index_evidence(ledger, ws.index_dir)
            trace = trace_index_evidence(ledger, ws.index_dir)
        return vars(domain), vars(trace)

    domain, trace = evidence()
    assert domain["public"] == {"available": False, "catalog_shards_covered": "0%"}
    assert "no domain index has been built" in domain["findings"][0]
    assert "no trace index" in trace["findings"][0]

    ok("index", "domains", cwd=root)
    ok("index", "build", cwd=root)
    domain, trace = evidence()
    for item in (domain, trace):
        assert item["public"] == {"available": True, "catalog_shards_covered": "75–100%"}
        assert item["findings"] == ()
        assert item["regulator"]["covered"] == item["regulator"]["catalog_shards"] == 1
    assert trace["regulator"]["documents"] == 20 and trace["regulator"]["tokens"] > 0

    ok("ingest", "jsonl", "b.jsonl", "--source", "crawl", cwd=root)  # a new shard the indexes have not read
    domain, trace = evidence()
    for item, what in ((domain, "domain"), (trace, "trace")):
        assert item["public"]["catalog_shards_covered"] == "50–75%"
        command = {"domain": "kiroku index domains", "trace": "kiroku index build"}[what]
        assert item["findings"] == (
            f"the {what} index covers 1 of the catalog's 2 shards (bring it up to date with `{command}`)",
        )
