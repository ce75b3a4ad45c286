"""A statement rendered for people: print-ready HTML and Markdown, Japanese and English side by side.

Both render the signed ``statement.json`` as it is (whatever its tier), so they show nothing the JSON does not.
Evidence is shown as labelled lines: `LABELS` gives each field its Japanese and English label; a field it does not
know is shown under its own name. The reasons a crawl skipped URLs (``skipped``) are worded by `SKIP_REASONS`,
with the reason code beside the words.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

__all__ = [
    "LABELS",
    "SKIP_REASONS",
    "STATUS",
    "evidence_lines",
    "skip_reason_label",
    "statement_html",
    "statement_markdown",
]

STATUS: dict[str, tuple[str, str]] = {
    "complies": ("遵守", "complies"),
    "partially": ("一部遵守（説明あり）", "partially complies (explained)"),
    "explains": ("不遵守の説明", "explains"),
}
"""Each status in Japanese and English."""

LABELS: dict[str, tuple[str, str]] = {
    "models": ("モデル", "models"),
    "model": ("モデル", "model"),
    "version": ("バージョン", "version"),
    "services": ("サービス", "services"),
    "high_impact": ("高影響モデル", "high-impact"),
    "released": ("提供開始", "released"),
    "withdrawn": ("提供終了", "withdrawn"),
    "runs": ("学習", "training runs"),
    "run": ("学習", "run"),
    "architecture": ("アーキテクチャ", "architecture"),
    "methods": ("学習方法", "methods"),
    "types": ("データの種類", "data types"),
    "share_of_kept_tokens": ("学習データ中の割合", "share of kept tokens"),
    "user_agents": ("ユーザーエージェント", "user agents"),
    "crawled": ("クロールの実施", "crawled"),
    "period": ("期間", "period"),
    "from": ("開始", "from"),
    "to": ("終了", "to"),
    "pages": ("取得ページ数", "pages fetched"),
    "hosts": ("ホスト数", "hosts"),
    "default_period": ("標準の保存期間", "default retention period"),
    "kinds": ("記録の種類", "record kinds"),
    "kind": ("種類", "kind"),
    "earliest_end": ("最も早い終了", "earliest end"),
    "latest_end": ("最も遅い終了", "latest end"),
    "protocols_seen": ("確認したオプトアウトの方式", "opt-out protocols seen"),
    "documents_dropped": ("除外した文書数", "documents dropped"),
    "kept_despite_optout": ("オプトアウトがあるのに残った文書数", "kept despite an opt-out"),
    "measures": ("措置", "measures"),
    "blocklists": ("ブロックリスト", "blocklists"),
    "available": ("利用可能", "available"),
    "catalog_shards_covered": ("カタログのうち索引済みの割合", "share of catalog shards indexed"),
    "contact": ("窓口", "contact point"),
    "inquiries_recorded": ("問い合わせ件数の記録", "inquiries recorded"),
    "data_sources": ("学習データの種類と出所", "types and sources of data"),
    "crawler": ("クローラー", "crawler"),
    "retention": ("保存期間", "retention"),
    "optouts": ("オプトアウト", "opt-outs"),
    "provenance": ("来歴情報・電子透かし", "provenance and watermarking"),
    "domain_index": ("ドメイン索引", "domain index"),
    "trace_index": ("照合索引", "trace index"),
    "inquiries": ("問い合わせ", "inquiries"),
    "training": ("学習", "training"),
    "crawls": ("自社クローラーの活動", "activity of our own crawler"),
    "count": ("クロール回数", "crawls"),
    "agents": (
        "クローラー名（robots.txt のプロダクトトークン）",
        "crawler names (robots.txt product tokens)",
    ),
    "skipped": ("取得しなかった URL（理由別）", "URLs not fetched, by reason"),
    "robots_fetches": ("robots.txt の取得回数", "robots.txt fetches"),
    "pages_with_fresh_robots": (
        "取得から24時間以内の robots.txt に従って取得したページ数",
        "pages fetched under a robots.txt at most 24 hours old",
    ),
    "fresh_robots_share": (
        "取得から24時間以内の robots.txt に従ったページ取得の割合",
        "share of page fetches under a robots.txt at most 24 hours old",
    ),
    "by_crawl": ("クロールごとの内訳", "by crawl"),
    "crawl_id": ("クロール ID", "crawl id"),
    "record": ("台帳の記録番号", "ledger record"),
    "source": ("データソース", "source"),
    "agent": ("クローラー名", "crawler name"),
    "user_agent": ("ユーザーエージェント", "user agent"),
    "started": ("開始日時", "started"),
    "ended": ("終了日時", "ended"),
}
"""Evidence fields' labels in Japanese and English."""

SKIP_REASONS: dict[str, tuple[str, str]] = {
    "robots": ("robots.txt による拒否", "disallowed by robots.txt"),
    "robots-unavailable": (
        "robots.txt を取得できず全面拒否として扱った",
        "robots.txt unavailable, so everything disallowed",
    ),
    "crawl-delay": ("Crawl-delay が上限を超えるため取得せず", "Crawl-delay longer than the crawl's maximum"),
    "tdmrep": ("TDMRep による権利留保", "reserved under TDMRep"),
    "out-of-scope": ("クロール範囲外", "outside the crawl's scope"),
    "http": ("再試行後も HTTP エラー", "HTTP error after retries"),
    "network": ("通信エラー", "no response"),
    "redirect-loop": ("リダイレクトのループ", "redirect loop"),
    "too-many-redirects": ("リダイレクトの回数超過", "too many redirects"),
    "max-pages": ("取得ページ数の上限に到達", "page limit reached"),
    "not-http": ("HTTP(S) 以外へのリダイレクト", "redirect to a non-HTTP(S) URL"),
}
"""The crawler's skip reasons (docs/crawl.md), by code or by the part before ``:``, in Japanese and English."""


def _value(value: Any) -> str:
    if value is True:
        return "はい / yes"
    if value is False:
        return "いいえ / no"
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(_value(v) for v in value) if value else "—"
    return str(value)


def _label(key: str) -> tuple[str, str]:
    return LABELS.get(key, (key, key.replace("_", " ")))


def skip_reason_label(reason: str) -> tuple[str, str]:
    """A crawler's skip reason (``robots:KirokuBot``, ``max-pages``) in words, Japanese and English, each with the
    code beside it; a reason `SKIP_REASONS` does not know is shown as its code."""
    words = SKIP_REASONS.get(reason) or SKIP_REASONS.get(reason.split(":", 1)[0])
    if words is None:
        return reason, reason
    return f"{words[0]}（{reason}）", f"{words[1]} ({reason})"


def evidence_lines(value: Any, depth: int = 0, *, parent: str = "") -> list[tuple[int, str, str, str]]:
    """Evidence flattened to ``(depth, Japanese label, English label, value)`` lines, nested fields indented;
    ``parent`` is the field ``value`` is the value of (the keys under ``skipped`` are skip reasons)."""
    lines: list[tuple[int, str, str, str]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            ja, en = skip_reason_label(str(key)) if parent == "skipped" else _label(str(key))
            if isinstance(inner, dict) or (
                isinstance(inner, list) and any(isinstance(v, dict) for v in inner)
            ):
                lines.append((depth, ja, en, ""))
                lines.extend(evidence_lines(inner, depth + 1, parent=str(key)))
            else:
                lines.append((depth, ja, en, _value(inner)))
    elif isinstance(value, list):
        for number, item in enumerate(value, start=1):
            lines.append((depth, f"{number}", f"#{number}", ""))
            lines.extend(evidence_lines(item, depth + 1))
    return lines


def _context(document: dict[str, Any]) -> dict[str, Any]:
    requirements = []
    for entry in document["requirements"]:
        requirements.append(
            {
                **entry,
                "findings": entry.get("findings", []),  # the regulator tier's only
                "status_ja": STATUS[entry["status"]][0],
                "status_en": STATUS[entry["status"]][1],
                "lines": evidence_lines(entry["evidence"]),
            }
        )
    return {
        "doc": document,
        "requirements": requirements,
        "status": STATUS,
        "tier_ja": "公開版" if document["tier"] == "public" else "規制当局向け",
    }


def statement_markdown(document: dict[str, Any]) -> str:
    """The statement as Markdown, each heading and status in Japanese and English."""
    return _template("statement.md").render(**_context(document)).rstrip() + "\n"


def statement_html(document: dict[str, Any]) -> str:
    """The statement as one print-ready HTML page (A4), Japanese first with English beside it."""
    return _template("statement.html").render(**_context(document))


@cache
def _template(name: str) -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("kiroku.disclose", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template(name)
