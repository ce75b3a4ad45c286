"""Opt-out signals in headers and meta tags: X-Robots-Tag noai/noimageai, TDMRep."""

from __future__ import annotations

import pytest

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


def test_a_tdmrep_header_overrides_the_meta_tag() -> None:
    assert html_signals(page('<meta name="tdm-reservation" content="1">'), tdm_header_seen=True) == []


def test_the_policy_names_the_agents_that_count() -> None:
    policy = OptoutPolicy(agents=("AcmeBot",))
    assert header_signals([("X-Robots-Tag", "AcmeBot: noai")], policy) == ["x-robots-tag:noai"]
    assert header_signals([("X-Robots-Tag", "GPTBot: noai")], policy) == []


def test_drop_keeps_only_documents_without_reasons_and_flag_keeps_all() -> None:
    assert OptoutPolicy("drop").keeps([]) and not OptoutPolicy("drop").keeps(["x-robots-tag:noai"])
    assert OptoutPolicy("flag").keeps(["x-robots-tag:noai"])
    with pytest.raises(ValueError, match="must be 'drop' or 'flag'"):
        OptoutPolicy("ignore")
