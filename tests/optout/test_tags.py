"""Opt-out signals in headers and meta tags: X-Robots-Tag noai/noimageai, TDMRep."""

from __future__ import annotations

import pytest
from resiliparse.parse.html import HTMLTree

from kiroku.optout import OptoutPolicy, header_signals, html_signals


@pytest.mark.parametrize(
    ("headers", "reasons"),
    [
        ([("X-Robots-Tag", "noai")], ["x-robots-tag:noai"]),
        ([("x-robots-tag", "noindex, NoImageAI")], ["x-robots-tag:noimageai"]),
        ([("X-Robots-Tag", "GPTBot: noai")], ["x-robots-tag:noai"]),
        ([("X-Robots-Tag", "SomeSearchBot: noai")], []),
        ([("X-Robots-Tag", "noindex, nofollow")], []),
        ([("tdm-reservation", "1")], ["tdmrep:reserved"]),
        ([("tdm-reservation", "0")], []),
        ([("Content-Type", "text/html")], []),
    ],
)
def test_header_signals(headers: list[tuple[str, str]], reasons: list[str]) -> None:
    assert header_signals(headers) == reasons


def page(*metas: str) -> str:
    return f"<html><head>{''.join(metas)}<title>t</title></head><body><p>text</p></body></html>"


@pytest.mark.parametrize(
    ("html", "reasons"),
    [
        (
            page('<meta name="robots" content="noai, noimageai">'),
            ["meta-robots:noai", "meta-robots:noimageai"],
        ),
        (page('<meta name="GPTBot" content="noai">'), ["meta-robots:noai"]),
        (page('<meta name="OtherBot" content="noai">'), []),
        (page('<meta name="robots" content="noindex">'), []),
        (page('<meta name="tdm-reservation" content="1">'), ["tdmrep:reserved"]),
        (page(), []),
        ("not html at all", []),
    ],
)
def test_html_signals(html: str, reasons: list[str]) -> None:
    assert html_signals(html) == reasons


def test_html_signals_read_a_parsed_page_as_its_text() -> None:
    html = page('<meta name="robots" content="noai">', '<meta name="tdm-reservation" content="1">')
    assert html_signals(HTMLTree.parse(html)) == html_signals(html) == ["meta-robots:noai", "tdmrep:reserved"]


def test_a_blocklisted_document_is_dropped_even_under_the_flag_policy() -> None:
    assert not OptoutPolicy("flag").keeps(["blocklist:piracy", "x-robots-tag:noai"])
    assert OptoutPolicy("flag").keeps(["robots:GPTBot"])


def test_the_policy_names_the_agents_that_count() -> None:
    policy = OptoutPolicy(agents=("AcmeBot",))
    assert header_signals([("X-Robots-Tag", "AcmeBot: noai")], policy) == ["x-robots-tag:noai"]
    assert header_signals([("X-Robots-Tag", "GPTBot: noai")], policy) == []


def test_drop_keeps_only_documents_without_reasons_and_flag_keeps_all() -> None:
    assert OptoutPolicy("drop").keeps([]) and not OptoutPolicy("drop").keeps(["x-robots-tag:noai"])
    assert OptoutPolicy("flag").keeps(["x-robots-tag:noai"])
    with pytest.raises(ValueError, match="must be 'drop' or 'flag'"):
        OptoutPolicy("ignore")
