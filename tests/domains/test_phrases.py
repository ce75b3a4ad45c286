from __future__ import annotations

from typing import Any

import pytest

from kiroku.domains.phrases import model_label, month_range, reason_phrase, summary


def answer(**changes: Any) -> dict[str, Any]:
    """An answer in the shape of `DomainAnswer.to_json()`: example.com, seen, cleaned in two stages, trained on."""
    data: dict[str, Any] = {
        "query": "example.com",
        "domain": "example.com",
        "display": "example.com",
        "kind": "domain",
        "registrable_domain": "example.com",
        "path_prefix": None,
        "appeared": True,
        "fetched": 1204,
        "fetched_bytes": 123_456_789,
        "fetched_tokens": 4_567_890,
        "first_fetch": "2026-03-01T08:00:00Z",
        "last_fetch": "2026-05-31T23:59:59Z",
        "dropped_at_ingest": 310,
        "dropped_by_signal": {"robots:GPTBot": 310},
        "kept_at_ingest": 894,
        "stages": {
            "quality": {"input": "catalog", "kept": 700, "dropped": 194},
            "dedup": {"input": "quality", "kept": 612, "dropped": 88},
        },
        "final_stage": "dedup",
        "kept": 612,
        "kept_scope": "stage:dedup",
        "runs": {"acme-lm@2.0/pretrain-1": 598},
        "models": {"acme-lm@2.0": 598},
        "index": {"record": 42, "ledger_size": 43},
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("reason", "en", "ja"),
    [
        ("robots:GPTBot", "robots.txt disallowed GPTBot", "robots.txt が GPTBot を拒否"),
        ("robots:CCBot", "robots.txt disallowed CCBot", "robots.txt が CCBot を拒否"),
        ("robots:*", "robots.txt disallowed all crawlers", "robots.txt がすべてのクローラーを拒否"),
        ("x-robots-tag:noai", "the X-Robots-Tag header said noai", "X-Robots-Tag ヘッダーが noai を指定"),
        (
            "x-robots-tag:noimageai",
            "the X-Robots-Tag header said noimageai",
            "X-Robots-Tag ヘッダーが noimageai を指定",
        ),
        ("meta-robots:noai", "a robots meta tag said noai", "robots メタタグが noai を指定"),
        ("meta-robots:noimageai", "a robots meta tag said noimageai", "robots メタタグが noimageai を指定"),
        (
            "tdmrep:reserved",
            "TDMRep reserved text-and-data-mining rights",
            "TDMRep でテキスト・データマイニングの権利を留保",
        ),
        ("blocklist:piracy", "the site is on the blocklist “piracy”", "ブロックリスト「piracy」に掲載"),
        ("license:cc-by-nd", "license:cc-by-nd", "license:cc-by-nd"),  # unknown: as it is
        ("robots:", "robots:", "robots:"),
        ("something", "something", "something"),
    ],
)
def test_reason_phrase(reason: str, en: str, ja: str) -> None:
    assert reason_phrase(reason, "en") == en
    assert reason_phrase(reason, "ja") == ja


def test_month_range() -> None:
    assert month_range("2026-03-01T00:00:00Z", "2026-05-02T00:00:00Z", "en") == "2026-03..2026-05"
    assert month_range("2026-03-01T00:00:00Z", "2026-05-02T00:00:00Z", "ja") == "2026-03〜2026-05"
    assert month_range("2026-03-01T00:00:00Z", "2026-03-31T23:00:00Z", "en") == "2026-03"
    assert month_range("2026-03-01T00:00:00Z", None, "ja") == "2026-03"
    assert month_range(None, None, "en") is None
    assert month_range("", "not a date", "en") is None


def test_model_label() -> None:
    assert model_label("acme-lm@2.0") == "acme-lm 2.0"
    assert model_label("acme-lm") == "acme-lm"


def test_the_issue_example() -> None:
    assert summary(answer(), "en") == (
        "example.com: 1,204 pages fetched 2026-03..2026-05; 310 dropped because robots.txt disallowed GPTBot; "
        "612 survived cleaning; 598 were in the training data of acme-lm 2.0."
    )
    assert summary(answer(), "ja") == (
        "example.com：2026-03〜2026-05 に 1,204 ページを取得。うち 310 ページを除外（robots.txt が GPTBot を拒否）。"
        "クリーニング後に残ったのは 612 ページ。598 ページが acme-lm 2.0 の学習データに含まれていました。"
    )


@pytest.mark.parametrize(
    ("kind", "name", "prefix", "en", "ja"),
    [
        (
            "domain",
            "example.org",
            None,
            "example.org: no page of this domain is",
            "example.org：このドメインのページ",
        ),
        (
            "host",
            "news.example.org",
            None,
            "news.example.org (a host under example.org): no page of this host is",
            "news.example.org（example.org のホスト）：このホストのページ",
        ),
        (
            "prefix",
            "example.org",
            "/news/",
            "example.org/news/: no page under this path is",
            "example.org/news/：このパス以下のページ",
        ),
    ],
)
def test_never_seen(kind: str, name: str, prefix: str | None, en: str, ja: str) -> None:
    never = answer(
        domain=name,
        display=name,
        kind=kind,
        registrable_domain="example.org",
        path_prefix=prefix,
        appeared=False,
        fetched=0,
        first_fetch=None,
        last_fetch=None,
        dropped_at_ingest=0,
        dropped_by_signal={},
        kept_at_ingest=0,
        kept=0,
        runs={},
        models={},
    )
    assert summary(never, "en") == f"{en} in the training-data catalog."
    assert summary(never, "ja") == f"{ja}は学習データのカタログにありません。"


def test_host() -> None:
    host = answer(domain="news.example.com", display="news.example.com", kind="host")
    assert summary(host, "en").startswith("news.example.com (a host under example.com): 1,204 pages fetched ")
    assert summary(host, "ja").startswith(
        "news.example.com（example.com のホスト）：2026-03〜2026-05 に 1,204 ページ"
    )


def test_prefix() -> None:
    prefix = answer(kind="prefix", path_prefix="/news/")
    assert summary(prefix, "en").startswith(
        "example.com/news/: 1,204 pages under this path fetched 2026-03..2026-05;"
    )
    assert summary(prefix, "ja").startswith(
        "example.com/news/：2026-03〜2026-05 にこのパス以下の 1,204 ページを取得。"
    )


def test_internationalised_name_shows_both_forms() -> None:
    idn = answer(
        query="ニュース.例え.jp",
        domain="xn--zck9awe6d.xn--r8jz45g.jp",
        display="ニュース.例え.jp",
        kind="host",
        registrable_domain="xn--r8jz45g.jp",
    )
    assert summary(idn, "en").startswith(
        "ニュース.例え.jp (xn--zck9awe6d.xn--r8jz45g.jp, a host under 例え.jp): "
    )
    assert summary(idn, "ja").startswith(
        "ニュース.例え.jp（xn--zck9awe6d.xn--r8jz45g.jp、例え.jp のホスト）："
    )


def test_no_stages_recorded() -> None:
    raw = answer(stages={}, final_stage=None, kept=894, kept_scope="catalog")
    assert "; 894 kept after opt-outs; " in summary(raw, "en")
    assert "survived cleaning" not in summary(raw, "en")
    assert "オプトアウトの後に残ったのは 894 ページ。" in summary(raw, "ja")


def test_stage_given() -> None:
    quality = answer(kept=700, kept_scope="stage:quality")
    assert "; 700 kept by the cleaning stage quality; " in summary(quality, "en")
    assert "クリーニング段階 quality の後に残ったのは 700 ページ。" in summary(quality, "ja")
    final = answer(kept_scope="stage:dedup")  # --stage naming the final stage: the same words as without
    assert summary(final, "en") == summary(answer(), "en")


def test_nothing_survived() -> None:
    gone = answer(kept=0, runs={}, models={})
    assert "; none survived cleaning; not in the training data of any recorded model." in summary(gone, "en")
    assert (
        "クリーニング後に残ったページはなし。記録されたどのモデルの学習データにも含まれていません。"
        in summary(gone, "ja")
    )


def test_several_runs_and_models() -> None:
    several = answer(
        runs={"acme-lm@2.0/pretrain-1": 598, "acme-lm@2.0/pretrain-2": 301, "beta@1/sft": 1, "gamma@3/x": 0},
        models={"acme-lm@2.0": 598, "beta@1": 1},
    )
    assert summary(several, "en").endswith(
        "; 598 were in the training data of acme-lm 2.0 (runs pretrain-1, pretrain-2) and 1 of beta 1."
    )
    assert summary(several, "ja").endswith(
        "acme-lm 2.0 の学習データに 598 ページ（実行 pretrain-1、pretrain-2）、beta 1 に 1 ページが含まれていました。"
    )
    three = answer(
        runs={"a@1/r": 5, "b@1/r": 1_000, "c@1/r": 5},
        models={"a@1": 5, "b@1": 1_000, "c@1": 5},
    )
    assert summary(three, "en").endswith("; 1,000 were in the training data of b 1, 5 of a 1 and 5 of c 1.")


def test_models_from_runs_alone() -> None:
    runs_only = answer(runs={"acme-lm@2.0/pretrain-1": 1}, models={})
    assert summary(runs_only, "en").endswith("; 1 was in the training data of acme-lm 2.0.")
    assert summary(runs_only, "ja").endswith("1 ページが acme-lm 2.0 の学習データに含まれていました。")


def test_zero_runs() -> None:
    unused = answer(runs={}, models={})
    assert summary(unused, "en").endswith(
        "; 612 survived cleaning; not in the training data of any recorded model."
    )
    assert summary(unused, "ja").endswith("記録されたどのモデルの学習データにも含まれていません。")


def test_dropped_wording() -> None:
    none = answer(dropped_at_ingest=0, dropped_by_signal={})
    assert "; none dropped at ingest; " in summary(none, "en")
    assert "取り込み時の除外はなし。" in summary(none, "ja")
    several = answer(
        dropped_at_ingest=1_310,
        dropped_by_signal={"blocklist:piracy": 20, "robots:GPTBot": 1_300, "x-robots-tag:noai": 0},
    )
    assert (
        "; 1,310 dropped (1,300 because robots.txt disallowed GPTBot, 20 because the site is on the blocklist "
        "“piracy”); "
    ) in summary(several, "en")
    assert (
        "うち 1,310 ページを除外（robots.txt が GPTBot を拒否：1,300、ブロックリスト「piracy」に掲載：20）。"
        in summary(several, "ja")
    )
    unexplained = answer(dropped_at_ingest=5, dropped_by_signal={})
    assert "; 5 dropped at ingest; " in summary(unexplained, "en")
    assert "うち 5 ページを取り込み時に除外。" in summary(unexplained, "ja")


def test_dates_and_numbers() -> None:
    one_month = answer(first_fetch="2026-03-02T00:00:00Z", last_fetch="2026-03-30T00:00:00Z")
    assert summary(one_month, "en").startswith("example.com: 1,204 pages fetched in 2026-03; ")
    assert summary(one_month, "ja").startswith("example.com：2026-03 に 1,204 ページを取得。")
    undated = answer(first_fetch=None, last_fetch=None)
    assert summary(undated, "en").startswith("example.com: 1,204 pages fetched; ")
    assert summary(undated, "ja").startswith("example.com：1,204 ページを取得。")
    single = answer(
        fetched=1, dropped_at_ingest=0, dropped_by_signal={}, kept=1, runs={"m@1/r": 1}, models={}
    )
    assert summary(single, "en") == (
        "example.com: 1 page fetched 2026-03..2026-05; none dropped at ingest; 1 survived cleaning; "
        "1 was in the training data of m 1."
    )
    big = answer(fetched=12_345_678, kept=9_876_543, runs={"m@1/r": 1_234_567}, models={})
    assert "12,345,678 pages" in summary(big, "en")
    assert "9,876,543 survived" in summary(big, "en")
    assert "12,345,678 ページを取得" in summary(big, "ja")
    assert "1,234,567 ページが m 1 の学習データ" in summary(big, "ja")
