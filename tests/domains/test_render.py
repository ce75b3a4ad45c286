from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from kiroku.domains.keys import name_key
from kiroku.domains.phrases import summary
from kiroku.domains.render import render_answer_html

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """The rendered page as tags (with their attributes) and text, each bit of text with the language it is in."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[tuple[str, str | None]] = []
        self.stack_classes: list[list[str]] = []
        self.title = ""
        self.text: dict[str | None, list[str]] = {}
        self.classes: dict[str, list[str]] = {}  # text under each class name
        self.unbalanced: list[str] = []
        self.feed(html)
        self.close()

    def lang(self) -> str | None:
        return next((lang for _, lang in reversed(self.stack) if lang is not None), None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag not in _VOID:
            self.stack.append((tag, attributes.get("lang")))
            self.stack_classes.append((attributes.get("class") or "").split())

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            self.unbalanced.append(tag)
            return
        self.stack.pop()
        self.stack_classes.pop()

    def handle_data(self, data: str) -> None:
        if not data.strip():
            return
        if self.stack and self.stack[-1][0] == "title":
            self.title += data
        self.text.setdefault(self.lang(), []).append(data)
        for names in self.stack_classes:
            for name in names:
                self.classes.setdefault(name, []).append(data)

    def all_text(self) -> str:
        return " ".join(" ".join(parts) for parts in self.text.values())

    def text_in(self, lang: str) -> str:
        return " ".join(self.text.get(lang, []))

    def under(self, name: str) -> str:
        return " ".join(self.classes.get(name, []))


def answer(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "query": "例え.jp",
        "domain": "xn--r8jz45g.jp",
        "display": "例え.jp",
        "kind": "domain",
        "registrable_domain": "xn--r8jz45g.jp",
        "path_prefix": None,
        "appeared": True,
        "fetched": 1204,
        "fetched_bytes": 123_456_789,
        "fetched_tokens": 4_567_890,
        "first_fetch": "2026-03-01T08:00:00Z",
        "last_fetch": "2026-05-31T23:59:59Z",
        "dropped_at_ingest": 310,
        "dropped_by_signal": {"robots:GPTBot": 300, "blocklist:piracy": 10},
        "kept_at_ingest": 894,
        "stages": {
            "quality": {"input": "catalog", "kept": 700, "dropped": 194},
            "dedup": {"input": "quality", "kept": 612, "dropped": 88},
        },
        "final_stage": "dedup",
        "kept": 612,
        "kept_scope": "stage:dedup",
        "runs": {"acme-lm@2.0/pretrain-1": 598, "acme-lm@2.0/pretrain-2": 301},
        "models": {"acme-lm@2.0": 598},
        "index": {"record": 42, "ledger_size": 1043, "built": "2026-06-01T10:00:00Z"},
    }
    data.update(changes)
    data.setdefault("summary", {"en": summary(data, "en"), "ja": summary(data, "ja")})
    return data


VERIFIED: dict[str, Any] = {
    "origin": "kiroku.example/acme-ai",
    "tree_size": 1043,
    "signer": "acme-ai+8f3a1c2d",
    "claims": [
        {"scope": "catalog", "present": True, "text": "catalog: xn--r8jz45g.jp has the entry fetched 1,204"},
        {
            "scope": "stage:dedup",
            "present": True,
            "text": "stage:dedup: xn--r8jz45g.jp has the entry kept 612",
        },
        {"scope": "run:beta@1/sft", "present": False, "text": "run:beta@1/sft: xn--r8jz45g.jp has no entry"},
    ],
}


def test_well_formed_and_self_contained() -> None:
    html = render_answer_html(answer())
    page = Page(html)
    assert html.startswith("<!DOCTYPE html>")
    assert page.unbalanced == []
    assert page.stack == []
    tags = {tag for tag, _ in page.tags}
    assert "script" not in tags and "link" not in tags and "img" not in tags and "iframe" not in tags
    for _, attributes in page.tags:
        for attribute in ("src", "href", "action"):
            assert attribute not in attributes
    assert "url(" not in html and "@import" not in html
    assert '"Noto Sans CJK JP"' in html
    assert ("meta", {"charset": "utf-8"}) in page.tags


def test_both_languages_japanese_first() -> None:
    data = answer()
    page = Page(render_answer_html(data))
    html_tag = next(attributes for tag, attributes in page.tags if tag == "html")
    assert html_tag["lang"] == "ja"
    sections = [
        attributes.get("lang") for tag, attributes in page.tags if tag == "section" and "lang" in attributes
    ]
    assert sections == ["ja", "en"]
    # each summary is in its own language's section, and only there
    assert data["summary"]["ja"] in page.text_in("ja")
    assert data["summary"]["en"] in page.text_in("en")
    assert data["summary"]["en"] not in page.text_in("ja")
    assert "Answer" in page.text_in("en") and "回答" in page.text_in("ja")
    # every English label is marked as English
    for label in ("Pages fetched", "Dropped at ingest", "Cleaning stages", "Training runs", "Evidence"):
        assert label in page.text_in("en"), label
    assert "Pages fetched" not in page.text_in("ja")


def test_the_question_and_the_name() -> None:
    page = Page(render_answer_html(answer()))
    text = page.all_text()
    assert "問い：「例え.jp」のページは学習データに含まれていたか。" in page.text_in("ja")
    assert "Question: did pages of 例え.jp appear in the training data?" in page.text_in("en")
    assert "xn--r8jz45g.jp" in text
    assert name_key("xn--r8jz45g.jp").hex() in text
    assert page.title == "学習データ照会への回答：例え.jp | Training-data inquiry: 例え.jp"


def test_figures_with_separators_and_reasons() -> None:
    page = Page(render_answer_html(answer()))
    figures = page.under("figures")
    for value in ("1,204", "123,456,789", "4,567,890", "310", "894", "700", "612", "598"):
        assert value in figures, value
    assert "2026-03-01 08:00 UTC" in figures and "2026-05-31 23:59 UTC" in figures
    assert "robots.txt が GPTBot を拒否" in figures and "robots.txt disallowed GPTBot" in figures
    assert "ブロックリスト「piracy」に掲載" in figures and "the site is on the blocklist “piracy”" in figures
    assert "Finally kept (final cleaning stage “dedup”)" in figures
    assert "In the training data of acme-lm 2.0" in figures
    stages = page.under("stages")
    assert "quality" in stages and "dedup" in stages and "final" in stages and "194" in stages
    runs = page.under("runs")
    assert "pretrain-1" in runs and "pretrain-2" in runs and "598" in runs and "301" in runs
    evidence = page.under("evidence")
    assert "#42" in evidence and "1,043" in evidence and "2026-06-01 10:00 UTC" in evidence


def test_status() -> None:
    assert "In training data" in Page(render_answer_html(answer())).under("status")
    unused = Page(render_answer_html(answer(runs={}, models={})))
    assert "Fetched, but not in any recorded training data" in unused.under("status")
    assert "No recorded training run used a page of this name." in unused.text_in("en")


def test_never_seen() -> None:
    never = answer(
        query="example.org/news/",
        domain="example.org",
        display="example.org",
        kind="prefix",
        registrable_domain="example.org",
        path_prefix="/news/",
        appeared=False,
        fetched=0,
        fetched_bytes=0,
        fetched_tokens=0,
        first_fetch=None,
        last_fetch=None,
        dropped_at_ingest=0,
        dropped_by_signal={},
        kept_at_ingest=0,
        stages={},
        final_stage=None,
        kept=0,
        kept_scope="catalog",
        runs={},
        models={},
        index={"record": 7, "ledger_size": 9},
    )
    page = Page(render_answer_html(never))
    assert "カタログにありません" in page.under("status") and "Not in the catalog" in page.under("status")
    assert "example.org/news/: no page under this path is in the training-data catalog." in page.text_in("en")
    assert "URL パスの接頭辞" in page.all_text() and "Finally kept (after opt-outs)" in page.under("figures")
    assert page.under("stages") == ""


def test_summary_computed_when_missing() -> None:
    data = answer()
    del data["summary"]
    page = Page(render_answer_html(data))
    assert summary(data, "ja") in page.text_in("ja")
    assert summary(data, "en") in page.text_in("en")


def test_user_supplied_text_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    data = answer(
        query=f"{evil}.example.com",
        display=f"{evil}.example.com",
        domain="xn--evil.example.com",
        dropped_by_signal={f"robots:{evil}": 310},
        stages={f"q{evil}": {"input": evil, "kept": 1, "dropped": 0}},
        runs={f"m{evil}@1/r{evil}": 1},
        summary={"en": f"en {evil}", "ja": f"ja {evil}"},
    )
    verification = {**VERIFIED, "signer": evil, "claims": [{"scope": evil, "present": True, "text": evil}]}
    html = render_answer_html(data, verification)
    page = Page(html)
    assert "script" not in {tag for tag, _ in page.tags}
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert evil in page.all_text()  # shown to the reader as text


def test_verified_badge_and_claims() -> None:
    page = Page(render_answer_html(answer(), {**VERIFIED, "record": 42}))
    verified = page.under("verified")
    assert "検証済み" in verified and "Verified" in verified
    assert "kiroku.example/acme-ai" in verified and "1,043" in verified and "acme-ai+8f3a1c2d" in verified
    assert "#42" in verified
    for claim in VERIFIED["claims"]:
        assert claim["text"] in verified
    assert verified.count("present") == 2 and verified.count("absent") == 1
    assert "whole catalog" in verified and "training run beta@1/sft" in verified
    assert page.under("howto") == ""


def test_without_verification_says_how_to_check() -> None:
    page = Page(render_answer_html(answer()))
    assert page.under("verified") == ""
    assert "kiroku verify BUNDLE --key KEY" in page.under("howto")
    assert "offline" in page.under("howto")
