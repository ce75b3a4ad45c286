"""The rightsholder-facing HTML page of a domain answer, in Japanese and English (the registry will serve it).

`render_answer_html` turns the answer JSON (`kiroku.domains.answer`) and, when a bundle was checked, what
`kiroku.domains.bundle.verification_view` says about it into one self-contained page: inline CSS, no script, no
external resource, every value from the answer escaped by Jinja2's autoescaping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import jinja2

from kiroku.domains.keys import name_key
from kiroku.domains.phrases import model_label, reason_phrase, summary

__all__ = ["render_answer_html"]


@dataclass(frozen=True)
class _Row:
    """One row of the figures table: a label in each language, a value, and how it is set."""

    ja: str
    en: str
    value: str
    sub: bool = False  # a breakdown of the row above
    total: bool = False  # the answer's bottom line


def render_answer_html(answer: Mapping[str, Any], verification: Mapping[str, Any] | None = None) -> str:
    """One bilingual HTML page for an answer; with ``verification``, the checked bundle's claims and a badge."""
    name = str(answer.get("domain", ""))
    display = str(answer.get("display") or name)
    words = answer.get("summary") or {}
    context = {
        "name": name,
        "display": display,
        "asked": display + str(answer.get("path_prefix") or ""),
        "query": str(answer.get("query") or display),
        "kind": _KINDS.get(str(answer.get("kind")), _KINDS["domain"]),
        "registrable_domain": answer.get("registrable_domain"),
        "key": _key_hex(name),
        "status": _status(answer),
        "summary": {lang: words.get(lang) or summary(answer, lang) for lang in ("ja", "en")},
        "figures": _figures(answer),
        "stages": _stages(answer),
        "runs": _runs(answer),
        "index": answer.get("index") or {},
        "verification": _verification(verification) if verification is not None else None,
    }
    return _template().render(**context)


_KINDS = {
    "domain": {
        "ja": "登録可能ドメイン（配下のホストを含む）",
        "en": "registrable domain, with all its hosts",
    },
    "host": {"ja": "ホスト", "en": "host"},
    "prefix": {"ja": "URL パスの接頭辞", "en": "URL path prefix"},
}


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("kiroku.domains", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["num"] = _num
    environment.filters["when"] = _when
    return environment.get_template("answer.html")


def _num(value: Any) -> str:
    """A count with thousands separators (anything else as it is)."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _when(value: Any) -> str:
    """An ISO 8601 time as ``2026-03-01 08:00 UTC``; none as a dash."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    zone = "UTC" if moment.utcoffset() is not None and not moment.utcoffset() else moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} {zone}".rstrip()


def _key_hex(name: str) -> str | None:
    """The SHA-256 key the name is committed under (what a bundle proves), when the name is ASCII."""
    try:
        return name_key(name).hex() if name else None
    except UnicodeEncodeError:
        return None


def _count(answer: Mapping[str, Any], key: str) -> int:
    value = answer.get(key) or 0
    return int(value)


def _status(answer: Mapping[str, Any]) -> dict[str, str]:
    """The answer in a few words, for the badge at the top: trained on, in the catalog only, or not seen."""
    used = sum(int(n) for n in (answer.get("runs") or {}).values())
    if used:
        return {"tone": "used", "ja": "学習データに含まれていました", "en": "In training data"}
    if answer.get("appeared"):
        return {
            "tone": "seen",
            "ja": "取得されましたが、記録された学習データには含まれていません",
            "en": "Fetched, but not in any recorded training data",
        }
    return {"tone": "absent", "ja": "カタログにありません", "en": "Not in the catalog"}


def _figures(answer: Mapping[str, Any]) -> list[_Row]:
    rows = [
        _Row("取得したページ", "Pages fetched", _num(_count(answer, "fetched"))),
        _Row("取得したバイト数", "Bytes fetched", _num(_count(answer, "fetched_bytes")), sub=True),
        _Row("トークン数", "Tokens", _num(_count(answer, "fetched_tokens")), sub=True),
        _Row("初回の取得", "First fetched", _when(answer.get("first_fetch"))),
        _Row("最後の取得", "Last fetched", _when(answer.get("last_fetch"))),
        _Row("取り込み時に除外", "Dropped at ingest", _num(_count(answer, "dropped_at_ingest"))),
    ]
    signals = answer.get("dropped_by_signal") or {}
    for reason, n in sorted(signals.items(), key=lambda item: (-int(item[1]), str(item[0]))):
        rows.append(
            _Row(reason_phrase(str(reason), "ja"), reason_phrase(str(reason), "en"), _num(n), sub=True)
        )
    rows.append(
        _Row(
            "取り込み時に保持（オプトアウト後）",
            "Kept at ingest (after opt-outs)",
            _num(_count(answer, "kept_at_ingest")),
        )
    )
    flagged = answer.get("flagged_by_signal") or {}
    for reason, n in sorted(flagged.items(), key=lambda item: (-int(item[1]), str(item[0]))):
        rows.append(
            _Row(
                f"信号があったが保持：{reason_phrase(str(reason), 'ja')}",
                f"kept although {reason_phrase(str(reason), 'en')}",
                _num(n),
                sub=True,
            )
        )
    for stage, figures in (answer.get("stages") or {}).items():
        kept = figures.get("kept", 0) if isinstance(figures, Mapping) else figures
        rows.append(
            _Row(f"クリーニング段階「{stage}」の後に保持", f"Kept after cleaning stage “{stage}”", _num(kept))
        )
    scope = str(answer.get("kept_scope") or "catalog")
    ja, en = ("オプトアウト後", "after opt-outs") if scope == "catalog" else _scope_words(scope, answer)
    rows.append(
        _Row(
            f"最終的に残ったページ（{ja}）", f"Finally kept ({en})", _num(_count(answer, "kept")), total=True
        )
    )
    models = {str(m): n for m, n in (answer.get("models") or {}).items() if n}
    for model, n in sorted(models.items(), key=lambda item: (-int(item[1]), item[0])):
        label = model_label(model)
        rows.append(_Row(f"{label} の学習データ", f"In the training data of {label}", _num(n), total=True))
    if not models and not answer.get("runs"):
        rows.append(
            _Row("学習データ（記録されたモデル）", "In training data (recorded models)", _num(0), total=True)
        )
    return rows


def _scope_words(scope: str, answer: Mapping[str, Any]) -> tuple[str, str]:
    """What a scope is, in Japanese and English: the catalog, a cleaning stage or a training run."""
    kind, _, name = scope.partition(":")
    if kind == "stage":
        final = name == answer.get("final_stage")
        return (
            f"{'最終' if final else ''}クリーニング段階「{name}」",
            f"{'final ' if final else ''}cleaning stage “{name}”",
        )
    if kind == "run":
        return f"学習実行 {name}", f"training run {name}"
    if kind == "catalog":
        return "カタログ全体", "whole catalog"
    return scope, scope


def _stages(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    stages = []
    for stage, figures in (answer.get("stages") or {}).items():
        figures = figures if isinstance(figures, Mapping) else {"kept": figures}
        source = str(figures.get("input") or "catalog")
        stages.append(
            {
                "name": str(stage),
                "input": {"ja": "カタログ", "en": "catalog"}
                if source == "catalog"
                else {"ja": source, "en": source},
                "kept": _num(figures.get("kept", 0)),
                "dropped": _num(figures.get("dropped", 0)),
                "final": stage == answer.get("final_stage"),
            }
        )
    return stages


def _runs(answer: Mapping[str, Any]) -> list[dict[str, str]]:
    runs = []
    for run, n in sorted((answer.get("runs") or {}).items(), key=lambda item: (-int(item[1]), str(item[0]))):
        model, _, name = str(run).partition("/")
        runs.append({"run": name or str(run), "model": model_label(model), "documents": _num(n)})
    return runs


def _verification(verification: Mapping[str, Any]) -> dict[str, Any]:
    claims = []
    for claim in verification.get("claims") or []:
        ja, en = _scope_words(str(claim.get("scope", "")), {})
        claims.append(
            {"ja": ja, "en": en, "present": bool(claim.get("present")), "text": str(claim.get("text", ""))}
        )
    return {
        "origin": str(verification.get("origin", "")),
        "tree_size": _num(verification.get("tree_size", "")),
        "signer": str(verification.get("signer", "")),
        "record": _num(verification["record"]) if "record" in verification else None,
        "claims": claims,
    }
