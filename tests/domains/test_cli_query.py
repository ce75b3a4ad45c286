"""``kiroku query domain|url|domains`` on the test catalog: answers equal the brute force, bad input is refused in
one line naming it, filters and path prefixes are counted right, and the CSV equals the single answers."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from kiroku.domains import DomainIndex, InvalidName
from kiroku.domains.answer import answer_domain
from kiroku.domains.bulk import BULK_COLUMNS
from kiroku.domains.names import parse_target
from kiroku.workspace import Workspace
from tests.conftest import kiroku
from tests.domains.conftest import Truth, figures, ok

STABLE_KEYS = {"domain", "appeared", "fetched", "kept", "runs"}


def query(catalog: Path, *args: str) -> dict[str, Any]:
    """``kiroku query domain ... --json``, parsed."""
    answer = json.loads(ok("query", "domain", *args, "--json", cwd=catalog))
    assert isinstance(answer, dict)
    return answer


def refused(catalog: Path, *args: str) -> str:
    """The one line of a command that exits 2 on bad input."""
    result = kiroku(*args, cwd=catalog)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kiroku: error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("typed", "name", "table"),
    [
        ("example.jp", "example.jp", "domain"),
        ("EXAMPLE.JP.", "example.jp", "domain"),
        ("news.example.jp", "news.example.jp", "host"),
        ("blog.example.com", "blog.example.com", "host"),
        ("manga-scans.example", "manga-scans.example", "domain"),
        ("192.0.2.7", "192.0.2.7", "domain"),
        ("never-crawled.example.com", "never-crawled.example.com", "host"),
        ("unknown-site.jp", "unknown-site.jp", "domain"),
    ],
)
def test_the_json_answer_equals_the_brute_force(
    catalog: Path, truth: Truth, typed: str, name: str, table: str
) -> None:
    answer = query(catalog, typed)
    assert set(answer) >= STABLE_KEYS
    assert (answer["query"], answer["domain"], answer["kind"]) == (typed, name, table)
    assert isinstance(answer["runs"], dict) and all(isinstance(v, int) for v in answer["runs"].values())
    assert figures(answer) == truth.answer(name, table)
    assert set(answer["summary"]) == {"en", "ja"} and all(answer["summary"].values())


@pytest.mark.parametrize(
    ("typed", "name", "display"),
    [
        ("例え.jp", "xn--r8jz45g.jp", "例え.jp"),
        ("例え。ＪＰ", "xn--r8jz45g.jp", "例え.jp"),
        ("ニュース.例え.jp", "xn--zck9awe6d.xn--r8jz45g.jp", "ニュース.例え.jp"),
    ],
)
def test_an_idn_is_answered_as_its_punycode(
    catalog: Path, truth: Truth, typed: str, name: str, display: str
) -> None:
    answer = query(catalog, typed)
    assert (answer["domain"], answer["display"], answer["registrable_domain"]) == (
        name,
        display,
        "xn--r8jz45g.jp",
    )
    table = "domain" if name == "xn--r8jz45g.jp" else "host"
    assert figures(answer) == truth.answer(name, table)
    assert answer["appeared"] and answer["fetched"] > 0


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("not a domain", "white space"),
        ("exa$mple.com", "character not allowed"),
        ("https://example.com/news/1", "kiroku query url"),
        ("http://example.com", "is a URL"),
        ("example.com:8080", "has a port"),
        ("co.jp", "public suffix"),
        ("example..com", "empty label"),
        ("*.example.com", "wildcard"),
        ("example.com/?q=1", "query string"),
        ("bad-.example.com", "starts or ends with '-'"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_it(catalog: Path, typed: str, says: str) -> None:
    line = refused(catalog, "query", "domain", typed, "--json")
    assert repr(typed) in line or typed in line
    assert says in line


def test_the_plain_answer_prints_both_summaries(catalog: Path) -> None:
    for name in ("example.jp", "never-crawled.example"):
        summary = query(catalog, name)["summary"]
        text = ok("query", "domain", name, cwd=catalog)
        assert summary["en"] in text and summary["ja"] in text


# -- --model and --stage -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "stage"),
    [("acme-lm", None), ("books-lm@0.1/books-only", None), (None, "lang"), ("acme-lm@2.0", "books-clean")],
)  # fmt: skip
def test_model_and_stage_filter_the_answer(
    catalog: Path, truth: Truth, model: str | None, stage: str | None
) -> None:
    """Through the command for two names (test_index compares every name through `answer_domain`)."""
    args = [*(["--model", model] if model else []), *(["--stage", stage] if stage else [])]
    for name, table in (("example.jp", "domain"), ("www.example.jp", "host")):
        answer = query(catalog, name, *args)
        assert figures(answer) == truth.answer(name, table, model=model, stage=stage)
    if stage:
        assert answer["kept_scope"] == f"stage:{stage}"


def test_an_unknown_model_or_stage_exits_2_listing_the_known_ones(catalog: Path) -> None:
    line = refused(catalog, "query", "domain", "example.jp", "--model", "gpt-9")
    assert "'gpt-9'" in line
    assert all(
        run in line
        for run in ("acme-lm@2.0/pretrain-1", "acme-lm@2.1/continued-1", "books-lm@0.1/books-only")
    )
    line = refused(catalog, "query", "domain", "example.jp", "--stage", "quality")
    assert "'quality'" in line and all(s in line for s in ("books-clean", "lang", "dedup"))
    assert "gpt-9" in refused(catalog, "query", "domains", "-", "--model", "gpt-9")


# -- path prefixes -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name", "prefix"),
    [
        ("blog.example.com/news/", "blog.example.com", "/news/"),
        ("blog.example.com/news", "blog.example.com", "/news"),
        ("example.com/news/", "example.com", "/news/"),  # a domain's prefix covers every host under it
        ("www.example.jp/tea", "www.example.jp", "/tea"),
        ("example.jp/tea", "example.jp", "/tea"),
        ("www.example.jp/ニュース/", "www.example.jp", "/ニュース/"),
        ("www.example.jp/%E3%83%8B%E3%83%A5%E3%83%BC%E3%82%B9/", "www.example.jp", "/ニュース/"),
        ("example.jp/", "example.jp", None),
        ("press.example.com/releases/", "press.example.com", "/releases/"),
        ("news.example.jp/nothing-here/", "news.example.jp", "/nothing-here/"),
    ],
)
def test_a_path_prefix_equals_the_brute_force(
    catalog: Path, truth: Truth, typed: str, name: str, prefix: str | None
) -> None:
    answer = query(catalog, typed)
    table = "domain" if answer["registrable_domain"] == name else "host"
    assert answer["domain"] == name
    if prefix is None:  # a bare trailing slash is the name itself
        assert answer["kind"] == "domain" and answer["path_prefix"] is None
        assert figures(answer) == truth.answer(name, "domain")
        return
    assert answer["kind"] == "prefix"
    assert figures(answer) == truth.answer(name, table, prefix=prefix)
    if typed not in ("www.example.jp/tea", "example.com/news/"):
        return
    for model, stage in ((None, "lang"), ("acme-lm@2.0", None)):
        args = ["--stage", stage] if stage else ["--model", model or ""]
        filtered = query(catalog, typed, *args)
        assert figures(filtered) == truth.answer(name, table, prefix=prefix, model=model, stage=stage)


def test_the_prefixes_tell_pages_apart(truth: Truth) -> None:
    """Guards the fixture: the prefixes above select different pages."""
    assert truth.answer("blog.example.com", "host", prefix="/news/")["fetched"] == 2
    assert truth.answer("blog.example.com", "host", prefix="/news")["fetched"] == 3
    assert truth.answer("www.example.jp", "host", prefix="/tea")["fetched"] == 4
    assert truth.answer("www.example.jp", "host", prefix="/ニュース/")["fetched"] == 1
    assert truth.answer("example.com", "domain", prefix="/news/")["fetched"] == 2
    assert truth.answer("example.jp", "domain", prefix="/tea")["fetched"] == 4


def test_a_prefix_has_no_bundle(catalog: Path, tmp_path: Path) -> None:
    line = refused(catalog, "query", "domain", "blog.example.com/news/", "--bundle", str(tmp_path / "b.json"))
    assert "blog.example.com" in line
    assert not (tmp_path / "b.json").exists()


# -- kiroku query url --------------------------------------------------------------------------------------------


def test_query_url_of_a_page_in_the_catalog(catalog: Path, truth: Truth) -> None:
    url = "https://news.example.jp/about"
    shown = json.loads(ok("query", "url", url, "--json", cwd=catalog))
    row = next(r for r in truth.rows if r.url == url)
    assert shown["appeared"] is True and shown["url"] == url
    assert [d["doc_id"] for d in shown["documents"]] == [row.doc_id.hex()]
    (occurrence,) = shown["documents"][0]["occurrences"]
    assert (occurrence["url"], occurrence["kept"], occurrence["optout"]) == (url, False, ["robots:GPTBot"])
    text = ok("query", "url", url, cwd=catalog)
    assert row.doc_id.hex() in text


def test_query_url_of_a_page_kept_through_training(catalog: Path) -> None:
    shown = json.loads(ok("query", "url", "https://art.example.net/about", "--json", cwd=catalog))
    (document,) = shown["documents"]
    assert {s["stage"]: s["outcome"] for s in document["stages"]} == {
        "books-clean": "not in input", "lang": "kept", "dedup": "kept",
    }  # fmt: skip
    assert {(r["model"], r["version"]) for r in document["runs"]} == {("acme-lm", "2.0"), ("acme-lm", "2.1")}


def test_query_url_of_a_page_not_in_the_catalog(catalog: Path) -> None:
    url = "https://www.example.jp/never-fetched"
    assert json.loads(ok("query", "url", url, "--json", cwd=catalog)) == {
        "url": url, "appeared": False, "documents": [],
    }  # fmt: skip
    assert "no page at this URL" in ok("query", "url", url, cwd=catalog)


@pytest.mark.parametrize("typed", ["example.com", "ftp://example.com/file", "www.example.jp/tea"])
def test_query_url_of_something_not_a_url_exits_2(catalog: Path, typed: str) -> None:
    line = refused(catalog, "query", "url", typed)
    assert typed in line and "kiroku query domain" in line


# -- kiroku query domains ----------------------------------------------------------------------------------------


INVALID = [
    "co.jp",
    "https://example.com/",
    "http://blog.example.com/news/2026/a",
    "example.com:8080",
    "blog.example.com/news/",
    "bad name.com",
    "exa$mple.com",
]


def _bulk_names(truth: Truth) -> list[str]:
    names = sorted(truth.names("domain") | truth.names("host"))
    return [*names, "例え.jp", "ＥＸＡＭＰＬＥ.JP", "News.Example.JP.", "never.example", "www.never.example",
            "192.0.2.8", *INVALID]  # fmt: skip


def _single(index: DomainIndex, typed: str, model: str | None = None) -> dict[str, str] | str:
    """The single answer as the CSV row would hold it, or the kind of name the CSV does not answer."""
    try:
        target = parse_target(typed)
    except InvalidName:
        return "invalid"
    if target.kind == "prefix":
        return "prefix"
    answer = answer_domain(index, target, model=model).to_json()
    row = {
        "query": typed.strip(),
        "domain": answer["domain"],
        "kind": answer["kind"],
        "error": "",
        "appeared": "true" if answer["appeared"] else "false",
        **{k: str(answer[k]) for k in ("fetched", "dropped_at_ingest", "kept_at_ingest", "kept")},
    }
    for scope in index.scopes:
        if scope.kind == "run" and (
            model is None or model in (scope.model, f"{scope.model}@{scope.version}")
        ):
            row[scope.scope] = str(answer["runs"].get(scope.name, 0))
    return row


@pytest.mark.parametrize("model", [None, "acme-lm@2.0"])
def test_the_csv_equals_the_single_answers_for_every_name(
    catalog: Path, truth: Truth, tmp_path: Path, model: str | None
) -> None:
    names = _bulk_names(truth)
    listing = tmp_path / "names.csv"
    listing.write_text(
        "domain,note\n# a comment\n\n" + "".join(f'"{n}",x\n' for n in names), encoding="utf-8"
    )
    args = ["query", "domains", str(listing), *(["--model", model] if model else [])]
    rows = list(csv.DictReader(io.StringIO(ok(*args, cwd=catalog))))
    index = DomainIndex.open(Workspace.open(catalog).index_dir)
    runs = [s.scope for s in index.scopes if s.kind == "run" and (model is None or model in s.scope)]
    assert list(rows[0]) == [*BULK_COLUMNS, *runs]
    assert [r["query"] for r in rows] == names
    for typed, row in zip(names, rows, strict=True):
        single = _single(index, typed, model)
        if isinstance(single, dict):
            assert row == single, typed
            continue
        assert row["error"] and row["domain"] == "" and row["fetched"] == "", typed
        if single == "prefix":  # answered one at a time, by a scan of the host's pages
            assert "kiroku query domain" in row["error"]
        elif model is None:
            assert kiroku("query", "domain", typed, cwd=catalog).returncode == 2, typed
    assert sum(r["appeared"] == "true" for r in rows) == len(truth.names("domain") | truth.names("host")) + 3


def test_the_csv_from_stdin_to_a_file(catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "answers.csv"
    said = kiroku("query", "domains", "-", "-o", str(out), cwd=catalog, input="example.jp\nnever.example\n")
    assert said.returncode == 0, said.stderr
    assert "2 names answered (1 appeared, 0 not valid names)" in said.stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["query"], r["appeared"]) for r in rows] == [("example.jp", "true"), ("never.example", "false")]


def test_the_csv_to_a_file_with_an_invalid_name_counts_it(catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "answers.csv"
    said = kiroku(
        "query", "domains", "-", "-o", str(out), cwd=catalog, input="example.jp\nco.jp\nnever.example\n"
    )
    assert said.returncode == 0, said.stderr
    assert "3 names answered (1 appeared, 1 not valid names)" in said.stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["query"], r["appeared"]) for r in rows] == [("example.jp", "true"), ("co.jp", ""),
                                                            ("never.example", "false")]  # fmt: skip


def test_a_missing_names_file_exits_2(catalog: Path, tmp_path: Path) -> None:
    assert "does not exist" in refused(catalog, "query", "domains", str(tmp_path / "none.txt"))


# -- the bundle and the page from the same command ----------------------------------------------------------------


def test_json_with_a_bundle_stays_parseable_and_the_bundle_verifies(catalog: Path, tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    result = kiroku("query", "domain", "例え.jp", "--json", "--bundle", str(path), cwd=catalog)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["domain"] == "xn--r8jz45g.jp"
    assert "kiroku verify" in result.stderr
    key = ok("log", "key", cwd=catalog).strip()
    assert kiroku("verify", str(path), "--key", key, cwd=tmp_path).returncode == 0


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _page_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", "".join(parser.parts))


@pytest.mark.skipif(
    importlib.util.find_spec("kiroku.domains.render") is None,
    reason="kiroku.domains.render is not written yet",
)
@pytest.mark.parametrize("name", ["example.jp", "never.example", "blog.example.com/news/"])
def test_html_writes_a_page_with_the_japanese_and_english_summary(
    catalog: Path, name: str, tmp_path: Path
) -> None:
    page = tmp_path / "answer.html"
    answer = query(catalog, name, "--html", str(page))
    text = _page_text(page.read_text(encoding="utf-8"))
    for language in ("ja", "en"):
        assert re.sub(r"\s+", " ", answer["summary"][language]) in text, language


def test_a_path_prefix_counts_percent_encodings_in_either_case(odd_urls: Path) -> None:
    truth = Truth.read(odd_urls)
    for typed in ("www.example.jp/ニュース/", "www.example.jp/%e3%83%8b%e3%83%a5%e3%83%bc%e3%82%b9/"):
        answer = query(odd_urls, typed)
        assert answer["fetched"] == 3, typed
        assert figures(answer) == truth.answer("www.example.jp", "host", prefix="/ニュース/")
