"""The trace answer page: the output with its verbatim spans shaded, every span and document listed, both languages.

Answers are built by hand in the shape `trace_output` returns, from real text: outputs that copy sentences of
licences in /usr/share/common-licenses (and of Japanese prose written here), with the spans, snippets and token
offsets worked out from those texts. The page is read back with an HTML parser.
"""

from __future__ import annotations

import hashlib
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiroku.trace.phrases import summary
from kiroku.trace.render import render_trace_html

LICENSES = Path("/usr/share/common-licenses")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

JA_DOCUMENT = (
    "町の図書館は、明治の終わりに商人たちが寄付した本を集めて開かれた。最初の蔵書は三百冊ほどで、"
    "そのほとんどが農業と商売の手引きだったという。戦後になると子ども向けの本が増え、夏休みには"
    "読み聞かせの会が毎週開かれるようになった。古い建物は二度の台風で屋根を失い、そのたびに住民が"
    "材木を持ち寄って直した。いまの建物は平成のはじめに建てられたもので、二階の窓からは川と港がよく見える。"
    "館長によれば、利用者がもっとも多いのは雨の日の午後で、高校生が閲覧室の席を取り合うほどだそうだ。"
)
JA_OUTPUT = (
    "この町の歴史を調べると、図書館の話は欠かせない。古い建物は二度の台風で屋根を失い、そのたびに住民が"
    "材木を持ち寄って直した。いまの建物は平成のはじめに建てられたもので、二階の窓からは川と港がよく見える。"
    "それ以外の点では、町の記録はほとんど残っていない。"
)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def license_text(name: str) -> str:
    """A licence with its whitespace squashed, as a document of the training data."""
    return _squash((LICENSES / name).read_text(encoding="utf-8"))


_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]|\w+")


def tokens(text: str) -> list[re.Match[str]]:
    """Words, and single characters of Japanese: close enough to kiroku's tokenizer to give realistic offsets."""
    return list(_TOKEN.finditer(text.casefold()))


def snippet(document: str, fragment: str, context: int = 40) -> dict[str, str]:
    at = document.index(fragment)
    return {
        "before": document[max(0, at - context) : at],
        "match": fragment,
        "after": document[at + len(fragment) : at + len(fragment) + context],
    }


def doc_entry(
    document: str, fragment: str | None, url: str | None, source: str = "licenses", **changes: Any
) -> dict[str, Any]:
    """A cited document: its id is the SHA-256 of its text, as in the catalog."""
    offset = len(tokens(document[: document.index(fragment)])) if fragment else 0
    entry: dict[str, Any] = {
        "id": hashlib.sha256(document.encode()).hexdigest(),
        "url": url,
        "domain": None if url is None else re.sub(r"^\w+://(www\.)?([^/]+).*$", r"\2", url),
        "source": source,
        "catalog_record": 7,
        "offset": offset,
        "snippet": snippet(document, fragment) if fragment else None,
    }
    entry.update(changes)
    return entry


def span_entry(
    output: str,
    char_start: int,
    char_end: int,
    count: int,
    documents: list[dict[str, Any]],
    common: bool = False,
) -> dict[str, Any]:
    """A span of ``output[char_start:char_end]`` with token offsets and an OLMoTrace-like weight."""
    before = len(tokens(output[:char_start]))
    length = len(tokens(output[char_start:char_end]))
    return {
        "text": output[char_start:char_end],
        "start": before,
        "end": before + length,
        "char_start": char_start,
        "char_end": char_end,
        "length": length,
        "count": count,
        "common": common,
        "weight": round(length * (12.0 - math.log(count + 1)), 3),
        "documents": documents,
    }


def answer_for(
    output: str,
    spans: list[dict[str, Any]],
    passages: list[dict[str, Any]] | None = None,
    similar: list[dict[str, Any]] | None = None,
    scope: str = "catalog",
    min_length: int = 8,
    with_summary: bool = True,
) -> dict[str, Any]:
    """An answer of `trace_output`'s shape; the summary is the one kiroku.trace.phrases writes."""
    covered: set[int] = set()
    for span in spans:
        covered.update(range(span["start"], span["end"]))
    n = len(tokens(output))
    answer: dict[str, Any] = {
        "scope": scope,
        "index": {
            "record": 12,
            "ledger_size": 1043,
            "documents": 20_817,
            "tokens": 31_542_889,
            "shards": 4,
            "tokenizer": "kiroku-nfkc-casefold-words+cjk-chars/1",
        },
        "output": {"characters": len(output), "tokens": n, "unknown_tokens": 3},
        "min_length": min_length,
        "coverage": round(len(covered) / n, 4),
        "covered_tokens": len(covered),
        "span_count": len(spans),
        "spans": sorted(spans, key=lambda s: (-s["weight"], s["start"])),
        "passages": passages or [],
        "similar": similar or [],
        "seconds": 0.0841,
    }
    if with_summary:
        answer["summary"] = summary(answer)
    return answer


APACHE = license_text("Apache-2.0")
GPL3 = license_text("GPL-3")
MPL = license_text("MPL-2.0")
COPIED_APACHE = (
    '"Legal Entity" shall mean the union of the acting entity and all other entities that control, '
    "are controlled by, or are under common control with that entity."
)
COPIED_GPL = "The licenses for most software and other practical works are designed to take away your freedom"
EN_OUTPUT = (
    "When drafting a contributor agreement, it helps to borrow settled definitions. For example, "
    + COPIED_APACHE
    + " A second clause might note that "
    + COPIED_GPL.lower()
    + " to share and change the works, which is why copyleft exists.\n\nNone of this is legal advice."
)


def english_answer(**changes: Any) -> dict[str, Any]:
    """An English output copying a definition from the Apache licence and the GPL's opening, spans overlapping."""
    output = EN_OUTPUT
    a = output.index(COPIED_APACHE)
    g = output.index(COPIED_GPL.lower())
    inner = output.index("the union of the acting entity")
    apache = doc_entry(APACHE, COPIED_APACHE, "https://www.apache.org/licenses/LICENSE-2.0")
    apache_mirror = doc_entry(
        APACHE,
        COPIED_APACHE,
        "https://opensource.org/license/apache-2-0",
        source="osi-mirror",
        catalog_record=9,
    )
    gpl = doc_entry(GPL3, COPIED_GPL, "https://www.gnu.org/licenses/gpl-3.0.html")
    spans = [
        span_entry(output, a, a + len(COPIED_APACHE), 2, [apache, apache_mirror]),
        # overlaps the Apache span: the same words occur in a third document with more after them
        span_entry(
            output,
            inner,
            inner + len("the union of the acting entity and all other entities"),
            41,
            [
                doc_entry(MPL, None, "https://www.mozilla.org/en-US/MPL/2.0/", snippet=None),
            ],
        ),
        span_entry(output, g, g + len(COPIED_GPL), 1_520, [gpl], common=True),
    ]
    passage = doc_entry(APACHE, COPIED_APACHE, "https://www.apache.org/licenses/LICENSE-2.0")
    passage.update(
        {
            "jaccard": 0.8125,
            "containment": 0.9286,
            "estimated_jaccard": 0.7969,
            "length": 26,
            "output_start": 13,
            "output_end": 39,
            "output_text": COPIED_APACHE,
        }
    )
    similar = [
        {
            **doc_entry(APACHE, None, "https://www.apache.org/licenses/LICENSE-2.0"),
            "score": 17.4312,
            "spans": 2,
            "passages": 1,
        },
        {
            **doc_entry(GPL3, None, "https://www.gnu.org/licenses/gpl-3.0.html"),
            "score": 11.02,
            "spans": 1,
            "passages": 0,
        },
        {**doc_entry(MPL, None, None), "score": 3.5, "spans": 0, "passages": 0},
    ]
    for entry in similar:
        del entry["offset"], entry["snippet"]
    options: dict[str, Any] = {"passages": [passage], "similar": similar}
    options.update(changes)
    return answer_for(output, spans, **options)


def japanese_answer(**changes: Any) -> dict[str, Any]:
    """A Japanese output copying two sentences of a Japanese document, in two overlapping spans."""
    first = "古い建物は二度の台風で屋根を失い、そのたびに住民が材木を持ち寄って直した。"
    second = "いまの建物は平成のはじめに建てられたもので、二階の窓からは川と港がよく見える。"
    a = JA_OUTPUT.index(first)
    b = JA_OUTPUT.index(second)
    doc = doc_entry(JA_DOCUMENT, first + second, "https://www.example.jp/machi/toshokan.html", source="町史")
    spans = [
        span_entry(JA_OUTPUT, a, b + len(second), 1, [doc]),
        span_entry(JA_OUTPUT, b - 6, b + 12, 3, [doc_entry(JA_DOCUMENT, second[:12], None, source="町史")]),
    ]
    return answer_for(JA_OUTPUT, spans, **changes)


class Page(HTMLParser):
    """The page as tags, text by language and by class, and the output's characters with the highlight on each."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.unbalanced: list[str] = []
        self.text: dict[str | None, list[str]] = {}
        self.classes: dict[str, list[str]] = {}
        self.ids: dict[str, list[str]] = {}
        self.output = ""  # the text inside the output box
        self.marks: list[dict[str, str | None] | None] = []  # per output character, the highlight it is in
        self.feed(html)
        self.close()

    def _lang(self) -> str | None:
        return next((a["lang"] for _, a in reversed(self.stack) if a.get("lang") is not None), None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag not in _VOID:
            self.stack.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            self.unbalanced.append(tag)
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        in_output = any(a.get("id") == "output" for _, a in self.stack)
        if in_output:
            self.output += data
            highlight = next(
                (a for t, a in reversed(self.stack) if t == "a" and "hl" in (a.get("class") or "")), None
            )
            self.marks.extend([highlight] * len(data))
        if not data.strip():
            return
        self.text.setdefault(self._lang(), []).append(data)
        for _, attributes in self.stack:
            for name in (attributes.get("class") or "").split():
                self.classes.setdefault(name, []).append(data)
            if attributes.get("id"):
                self.ids.setdefault(str(attributes["id"]), []).append(data)

    def under(self, name: str) -> str:
        return " ".join(self.classes.get(name, []))

    def in_id(self, name: str) -> str:
        return " ".join(self.ids.get(name, []))

    def text_in(self, lang: str) -> str:
        return " ".join(self.text.get(lang, []))

    def all_text(self) -> str:
        return " ".join(" ".join(parts) for parts in self.text.values())

    def hrefs(self) -> list[str]:
        return [str(a["href"]) for t, a in self.tags if t == "a" and a.get("href") is not None]


def covered_by(answer: dict[str, Any], length: int) -> list[set[int]]:
    """Brute force: for each character of the output, the (1-based, listed) spans covering it."""
    cover: list[set[int]] = [set() for _ in range(length)]
    for number, span in enumerate(answer["spans"], start=1):
        for i in range(span["char_start"], span["char_end"]):
            cover[i].add(number)
    return cover


def check_highlights(output: str, answer: dict[str, Any]) -> Page:
    """The output is shown whole, every covered character highlighted with its spans, and nothing else."""
    page = Page(render_trace_html(output, answer))
    assert page.unbalanced == [] and page.stack == []
    assert page.output == output
    cover = covered_by(answer, len(output))
    for i, mark in enumerate(page.marks):
        if not cover[i]:
            assert mark is None, (i, output[i])
            continue
        assert mark is not None, (i, output[i])
        assert {int(n) for n in str(mark["data-spans"]).split()} == cover[i]
        assert mark["href"] == f"#span-{min(cover[i])}"
    return page


def level(mark: dict[str, str | None] | None) -> int:
    if mark is None:
        return 0
    found = re.search(r"\bl(\d)\b", str(mark["class"]))
    assert found is not None
    return int(found.group(1))


def test_the_page_is_well_formed_and_self_contained() -> None:
    html = render_trace_html(EN_OUTPUT, english_answer())
    page = Page(html)
    assert html.startswith("<!DOCTYPE html>")
    assert page.unbalanced == [] and page.stack == []
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "form"}
    assert "url(" not in html and "@import" not in html
    assert all(h.startswith(("#", "https://")) for h in page.hrefs())
    assert '"Noto Sans CJK JP"' in html
    assert "@media print" in html


def test_english_spans_are_highlighted_exactly_where_they_are() -> None:
    answer = english_answer()
    page = check_highlights(EN_OUTPUT, answer)
    assert any(page.marks) and not all(page.marks)
    assert next(a for t, a in page.tags if a.get("id") == "output")["lang"] == "en"


def test_japanese_spans_are_highlighted_exactly_where_they_are() -> None:
    answer = japanese_answer()
    page = check_highlights(JA_OUTPUT, answer)
    assert next(a for t, a in page.tags if a.get("id") == "output")["lang"] == "ja"
    assert "古い建物は二度の台風で屋根を失い" in page.under("span-text")


def test_overlapping_spans_shade_darker_and_a_heavier_span_weighs_more() -> None:
    answer = english_answer()
    page = check_highlights(EN_OUTPUT, answer)
    cover = covered_by(answer, len(EN_OUTPUT))
    by_spans: dict[frozenset[int], int] = {}
    for i, mark in enumerate(page.marks):
        by_spans.setdefault(frozenset(cover[i]), level(mark))
    spans = answer["spans"]
    apache = 1 + next(i for i, s in enumerate(spans) if s["text"].startswith('"Legal Entity"'))
    inner = 1 + next(i for i, s in enumerate(spans) if s["text"].startswith("the union"))
    gpl = 1 + next(i for i, s in enumerate(spans) if s["common"])
    assert by_spans[frozenset()] == 0
    assert by_spans[frozenset({apache, inner})] > by_spans[frozenset({apache})] >= 1
    # the Apache span is longer and far rarer than the common GPL one
    assert spans[apache - 1]["weight"] > spans[gpl - 1]["weight"]
    assert by_spans[frozenset({apache})] >= by_spans[frozenset({gpl})] >= 1


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_spans_highlight_exactly_their_characters_and_nest_darker(data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(APACHE) - 400))
    output = APACHE[start : start + data.draw(st.integers(1, 400))]
    bounds = st.tuples(st.integers(0, len(output)), st.integers(0, len(output))).map(sorted)
    chosen = data.draw(st.lists(bounds.filter(lambda b: b[0] < b[1]), max_size=8))
    spans = [
        span_entry(output, lo, hi, data.draw(st.integers(1, 5000)), [doc_entry(APACHE, None, None)])
        for lo, hi in chosen
    ]
    for span in spans:
        span["length"] = max(1, span["length"])
        span["weight"] = data.draw(st.floats(0.0, 500.0))
    answer = {"spans": spans, "summary": {"en": "s", "ja": "s"}}
    page = check_highlights(output, answer)
    cover = covered_by(answer, len(output))
    levels = {frozenset(cover[i]): level(mark) for i, mark in enumerate(page.marks)}
    for spans_a, level_a in levels.items():
        for spans_b, level_b in levels.items():
            if spans_a < spans_b:
                assert level_a <= level_b, (spans_a, spans_b)


def test_every_span_and_document_is_listed_with_its_snippet() -> None:
    answer = english_answer()
    page = Page(render_trace_html(EN_OUTPUT, answer))
    for number, span in enumerate(answer["spans"], start=1):
        card = page.in_id(f"span-{number}")
        assert span["text"] in card
        assert f"{span['count']:,}" in card and str(span["length"]) in card
        for doc in span["documents"]:
            assert doc["id"] in card and doc["source"] in card
            if doc["url"]:
                assert doc["url"] in card and doc["domain"] in card
            if doc["snippet"]:
                assert doc["snippet"]["match"] in card
                assert doc["snippet"]["before"].strip() in card
    marked = page.under("snippet")
    assert COPIED_APACHE in " ".join(text for tag, text in _marks(render_trace_html(EN_OUTPUT, answer)))
    assert "Text not available" in marked  # the MPL document's text is gone
    common = next(i for i, s in enumerate(answer["spans"], start=1) if s["common"])
    assert "common" in page.in_id(f"span-{common}")


def _marks(html: str) -> list[tuple[str, str]]:
    """The text of every <mark> element (the match inside a snippet)."""
    found: list[tuple[str, str]] = []

    class Marks(HTMLParser):
        depth = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "mark":
                self.depth += 1
                found.append(("mark", ""))

        def handle_endtag(self, tag: str) -> None:
            if tag == "mark":
                self.depth -= 1

        def handle_data(self, data: str) -> None:
            if self.depth:
                found[-1] = ("mark", found[-1][1] + data)

    parser = Marks(convert_charrefs=True)
    parser.feed(html)
    return found


def test_passages_and_similar_documents_are_listed_with_their_scores() -> None:
    answer = english_answer()
    page = Page(render_trace_html(EN_OUTPUT, answer))
    passage = page.in_id("passage-1")
    for figure in ("0.81", "0.93", "0.80", "Jaccard", "containment"):
        assert figure in passage
    assert COPIED_APACHE in passage and "https://www.apache.org/licenses/LICENSE-2.0" in passage
    table = page.under("similar")
    for doc in answer["similar"]:
        assert f"{doc['score']:.2f}" in table and doc["id"] in table
    assert "no URL" in table
    assert [h for h in page.hrefs() if h.startswith("https://")].count(
        "https://www.gnu.org/licenses/gpl-3.0.html"
    ) == 2


def test_coverage_scope_index_and_summaries_in_both_languages() -> None:
    answer = english_answer()
    html = render_trace_html(EN_OUTPUT, answer)
    page = Page(html)
    percent = f"{answer['coverage']:.1%}"
    assert percent in page.under("figure")
    bar = next(a for t, a in page.tags if t == "span" and "width" in (a.get("style") or ""))
    assert bar["style"] == f"width: {answer['coverage'] * 100:.2f}%"
    assert f"{answer['covered_tokens']} / {answer['output']['tokens']}" in page.all_text()
    assert answer["summary"]["ja"] in page.text_in("ja")
    assert answer["summary"]["en"] in page.text_in("en")
    evidence = page.under("evidence")
    assert "#12" in evidence and "1,043" in evidence and "31,542,889" in evidence and "20,817" in evidence
    assert "カタログに保持されたすべての文書" in evidence and "everything kept in the catalog" in evidence
    assert "Verbatim matches in training data" in page.under("status")


@pytest.mark.parametrize(
    ("scope", "ja", "en"),
    [
        (
            "stage:dedup",
            "クリーニング段階「dedup」が保持した文書",
            "documents kept by cleaning stage “dedup”",
        ),
        (
            "run:acme-lm@2.0/pretrain",
            "学習実行 acme-lm@2.0/pretrain のデータミックス",
            "training run acme-lm@2.0/pretrain",
        ),
    ],
)
def test_the_scope_is_said_in_both_languages(scope: str, ja: str, en: str) -> None:
    page = Page(render_trace_html(JA_OUTPUT, japanese_answer(scope=scope)))
    assert ja in page.text_in("ja") and en in page.text_in("en") and scope in page.under("evidence")


def test_every_heading_is_in_japanese_and_english() -> None:
    html = render_trace_html(EN_OUTPUT, english_answer())
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", html, re.S)
    assert headings[:2] == ["回答", "Answer"]  # the summaries side by side, each in its own language
    assert len(headings) > 6
    for heading in headings[2:]:
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", heading), heading
        assert 'lang="en"' in heading, heading


def test_an_output_with_no_spans_says_so_in_both_languages() -> None:
    output = "A completely new sentence that the index has never seen, written for this test alone."
    answer = answer_for(output, [])
    page = Page(render_trace_html(output, answer))
    assert page.output == output and not any(page.marks)
    assert "No span of 8 or more tokens occurs verbatim" in page.text_in("en")
    assert "8 トークン以上の逐語一致はありません" in page.all_text()
    assert "No passage of the training data is a near-duplicate" in page.text_in("en")
    assert "No match in training data" in page.under("status")
    assert "0.0%" in page.under("figure")


def test_near_duplicates_alone_set_the_badge() -> None:
    base = english_answer()
    answer = answer_for(EN_OUTPUT, [], passages=base["passages"], similar=base["similar"])
    assert "Near-duplicate passages found" in Page(render_trace_html(EN_OUTPUT, answer)).under("status")


def test_a_missing_summary_is_written_from_the_answer() -> None:
    answer = japanese_answer(with_summary=False)
    page = Page(render_trace_html(JA_OUTPUT, answer))
    words = summary(answer)
    assert words["ja"] in page.text_in("ja") and words["en"] in page.text_in("en")


def test_a_document_without_url_shows_its_id_and_no_link() -> None:
    answer = japanese_answer()
    page = Page(render_trace_html(JA_OUTPUT, answer))
    card = page.in_id("span-2")
    doc = answer["spans"][1]["documents"][0]
    assert doc["url"] is None and doc["id"] in card and "no URL" in card
    links = [a for t, a in page.tags if t == "a" and not str(a.get("href")).startswith("#")]
    assert [a["href"] for a in links] == ["https://www.example.jp/machi/toshokan.html"]


def test_hovering_a_highlight_names_its_documents() -> None:
    answer = english_answer()
    page = Page(render_trace_html(EN_OUTPUT, answer))
    titles = [str(mark["title"]) for mark in page.marks if mark is not None]
    assert any(
        "https://www.apache.org/licenses/LICENSE-2.0" in t and "https://www.mozilla.org/" in t for t in titles
    )
    assert all("click for the documents" in t for t in titles)


HOSTILE = '<script>alert("x")</script>'


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        " JaVaScRiPt:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox",
        'https://evil.example/"><script>alert(1)</script>',
    ],
)
def test_untrusted_text_and_urls_are_escaped_and_only_http_urls_become_links(url: str) -> None:
    output = f"Before {HOSTILE} the copied words of the licence {HOSTILE} after."
    start = output.index("the copied")
    hostile_doc = doc_entry(
        APACHE,
        None,
        None,
        domain=f"{HOSTILE}.example",
        source=HOSTILE,
        snippet={
            "before": HOSTILE,
            "match": f"<em>{HOSTILE}</em>",
            "after": "</li></ol><script>x()</script>",
        },
    )
    hostile_doc["url"] = url
    span = span_entry(output, start - 20, start + 30, 2, [hostile_doc])
    answer = answer_for(output, [span], similar=[{**hostile_doc, "score": 1.0, "spans": 1, "passages": 0}])
    answer["summary"] = {"en": HOSTILE, "ja": HOSTILE}
    html = render_trace_html(output, answer)
    page = Page(html)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert page.unbalanced == [] and page.stack == []
    assert page.output == output
    assert not {tag for tag, _ in page.tags} & {"script", "em"}
    assert HOSTILE in page.under("snippet") and span["text"] in page.under("span-text")
    assert not [h for h in page.hrefs() if not h.startswith("#")]
    assert url.strip() in page.all_text() or url in page.all_text()


def test_a_page_listing_only_the_top_spans_says_how_many_there_are() -> None:
    answer = english_answer()
    answer["span_count"] = 57
    page = Page(render_trace_html(EN_OUTPUT, answer))
    assert "Showing the 3 rarest and longest of 57 spans" in page.text_in("en")
    assert "一致 57 箇所のうち" in page.all_text()
