"""The plain-language answer, in English and Japanese, from an answer's figures.

`reason_phrase` says what an opt-out reason (``robots:GPTBot``, ``tdmrep:reserved``, ``blocklist:piracy``…) means;
`summary` turns the answer JSON (`kiroku.domains.answer`) into one paragraph:

    example.com: 1,204 pages fetched 2026-03..2026-05; 310 dropped because robots.txt disallowed GPTBot;
    612 survived cleaning; 598 were in the training data of acme-lm 2.0.
    example.com：2026-03〜2026-05 に 1,204 ページを取得。うち 310 ページを除外（robots.txt が GPTBot を拒否）。
    クリーニング後に残ったのは 612 ページ。598 ページが acme-lm 2.0 の学習データに含まれていました。
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from kiroku.domains.names import display_name

__all__ = ["Lang", "model_label", "month_range", "reason_phrase", "summary"]

Lang = Literal["en", "ja"]

_FIXED: dict[str, tuple[str, str]] = {
    "tdmrep:reserved": (
        "TDMRep reserved text-and-data-mining rights",
        "TDMRep でテキスト・データマイニングの権利を留保",
    ),
    "robots:*": ("robots.txt disallowed all crawlers", "robots.txt がすべてのクローラーを拒否"),
}
_MONTH = re.compile(r"\d{4}-\d{2}")


def reason_phrase(reason: str, lang: Lang) -> str:
    """What an opt-out reason means, in words: ``robots:GPTBot`` → "robots.txt disallowed GPTBot".

    A reason kiroku does not know is shown as it is.
    """
    if reason in _FIXED:
        en, ja = _FIXED[reason]
        return en if lang == "en" else ja
    kind, _, detail = reason.partition(":")
    if not detail:
        return reason
    if kind == "robots":
        return f"robots.txt disallowed {detail}" if lang == "en" else f"robots.txt が {detail} を拒否"
    if kind == "x-robots-tag":
        return (
            f"the X-Robots-Tag header said {detail}"
            if lang == "en"
            else f"X-Robots-Tag ヘッダーが {detail} を指定"
        )
    if kind == "meta-robots":
        return f"a robots meta tag said {detail}" if lang == "en" else f"robots メタタグが {detail} を指定"
    if kind == "blocklist":
        return (
            f"the site is on the blocklist “{detail}”"
            if lang == "en"
            else f"ブロックリスト「{detail}」に掲載"
        )
    return reason


def month_range(first: str | None, last: str | None, lang: Lang) -> str | None:
    """``2026-03..2026-05`` (``2026-03〜2026-05`` in Japanese), one month alone, or None without dates."""
    months = [m.group() for m in (_MONTH.match(t or "") for t in (first, last)) if m]
    if not months:
        return None
    start, end = min(months), max(months)
    if start == end:
        return start
    return f"{start}..{end}" if lang == "en" else f"{start}〜{end}"


def model_label(model: str) -> str:
    """``acme-lm@2.0`` → ``acme-lm 2.0``: a model and its version as people write them."""
    name, _, version = model.partition("@")
    return f"{name} {version}" if version else name


def summary(answer: Mapping[str, Any], lang: Lang) -> str:
    """The answer in one paragraph, in English (``en``) or Japanese (``ja``)."""
    kind = answer.get("kind", "domain")
    head = _head(answer, lang)
    if not answer.get("appeared"):
        if lang == "en":
            what = {"host": "of this host", "prefix": "under this path"}.get(kind, "of this domain")
            return f"{head}: no page {what} is in the training-data catalog."
        what = {"host": "このホストの", "prefix": "このパス以下の"}.get(kind, "このドメインの")
        return f"{head}：{what}ページは学習データのカタログにありません。"
    models = _models(answer)
    if lang == "en":
        parts = [
            _fetched_en(answer),
            _dropped_en(answer),
            *_flagged(answer, lang),
            _kept_en(answer),
            _models_en(models),
        ]
        return f"{head}: " + "; ".join(parts) + "."
    return f"{head}：" + "".join(
        [
            _fetched_ja(answer),
            _dropped_ja(answer),
            *_flagged(answer, lang),
            _kept_ja(answer),
            _models_ja(models),
        ]
    )


def _head(answer: Mapping[str, Any], lang: Lang) -> str:
    """The name asked about, as people read it; the punycode too when it differs, and for a host its domain."""
    name = str(answer.get("domain", ""))
    display = str(answer.get("display") or name)
    prefix = answer.get("path_prefix") or ""
    notes = [name] if display != name else []
    if answer.get("kind") == "host" and answer.get("registrable_domain"):
        domain = display_name(str(answer["registrable_domain"]))
        notes.append(f"a host under {domain}" if lang == "en" else f"{domain} のホスト")
    head = f"{display}{prefix}"
    if notes:
        head += f" ({', '.join(notes)})" if lang == "en" else f"（{'、'.join(notes)}）"
    return head


def _count(answer: Mapping[str, Any], key: str) -> int:
    value = answer.get(key) or 0
    return int(value)


def _pages(n: int) -> str:
    return f"{n:,} page" if n == 1 else f"{n:,} pages"


def _signals(answer: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Opt-out reasons with their counts, the most frequent first."""
    signals = answer.get("dropped_by_signal") or {}
    return sorted(((str(r), int(n)) for r, n in signals.items() if n), key=lambda item: (-item[1], item[0]))


def _flagged(answer: Mapping[str, Any], lang: Lang) -> list[str]:
    """Pages kept although they carried an opt-out signal (the ``flag`` policy), said plainly; [] if none."""
    flagged = answer.get("flagged_by_signal") or {}
    if not flagged:
        return []
    items = sorted(((str(r), int(n)) for r, n in flagged.items() if n), key=lambda item: (-item[1], item[0]))
    if lang == "en":
        why = ", ".join(f"{n:,} where {reason_phrase(r, 'en')}" for r, n in items)
        return [f"kept although they carried an opt-out signal: {why}"]
    why = "、".join(f"{reason_phrase(r, 'ja')}：{n:,} ページ" for r, n in items)
    return [f"オプトアウトの信号があったが保持（{why}）。"]


def _models(answer: Mapping[str, Any]) -> list[tuple[str, int, list[str]]]:
    """(model, documents, its runs) for each model that used the name's documents, the largest first."""
    runs_of: dict[str, list[str]] = {}
    largest: dict[str, int] = {}
    for run, n in (answer.get("runs") or {}).items():
        if n:
            model, _, name = str(run).partition("/")
            runs_of.setdefault(model, []).append(name or model)
            largest[model] = max(largest.get(model, 0), int(n))
    models = {**largest, **{str(m): int(n) for m, n in (answer.get("models") or {}).items() if n}}
    ranked = sorted(models.items(), key=lambda item: (-item[1], item[0]))
    return [(model, n, sorted(runs_of.get(model, []))) for model, n in ranked]


def _stage_of_kept(answer: Mapping[str, Any]) -> str | None:
    """The stage whose kept set ``kept`` counts, None when it counts the catalog's (kept after opt-outs)."""
    scope = str(answer.get("kept_scope") or "catalog")
    return scope.removeprefix("stage:") if scope.startswith("stage:") else None


def _fetched_en(answer: Mapping[str, Any]) -> str:
    fetched = _count(answer, "fetched")
    where = {"prefix": " under this path"}.get(str(answer.get("kind")), "")
    months = month_range(answer.get("first_fetch"), answer.get("last_fetch"), "en")
    when = "" if months is None else (f" in {months}" if ".." not in months else f" {months}")
    return f"{_pages(fetched)}{where} fetched{when}"


def _dropped_en(answer: Mapping[str, Any]) -> str:
    dropped = _count(answer, "dropped_at_ingest")
    signals = _signals(answer)
    if dropped == 0:
        return "none dropped at ingest"
    if len(signals) == 1 and signals[0][1] == dropped:
        return f"{dropped:,} dropped because {reason_phrase(signals[0][0], 'en')}"
    if not signals:
        return f"{dropped:,} dropped at ingest"
    because = ", ".join(f"{n:,} because {reason_phrase(r, 'en')}" for r, n in signals)
    return f"{dropped:,} dropped ({because})"


def _kept_en(answer: Mapping[str, Any]) -> str:
    kept = _count(answer, "kept")
    number = "none" if kept == 0 else f"{kept:,}"
    stage = _stage_of_kept(answer)
    if stage is None:
        return f"{number} kept after opt-outs"
    waiting = _count(answer, "not_yet_cleaned")
    later = f" ({waiting:,} fetched after cleaning ran, not cleaned yet)" if waiting else ""
    if stage == answer.get("final_stage"):
        return f"{number} survived cleaning{later}"
    return f"{number} kept by the cleaning stage {stage}{later}"


def _models_en(models: list[tuple[str, int, list[str]]]) -> str:
    if not models:
        return "not in the training data of any recorded model"
    parts = []
    for i, (model, n, runs) in enumerate(models):
        label = model_label(model)
        if len(runs) > 1:
            label += f" (runs {', '.join(runs)})"
        if i == 0:
            parts.append(f"{n:,} {'was' if n == 1 else 'were'} in the training data of {label}")
        else:
            parts.append(f"{n:,} of {label}")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _fetched_ja(answer: Mapping[str, Any]) -> str:
    fetched = _count(answer, "fetched")
    where = "このパス以下の " if answer.get("kind") == "prefix" else ""
    months = month_range(answer.get("first_fetch"), answer.get("last_fetch"), "ja")
    when = "" if months is None else f"{months} に"
    space = " " if when and not where else ""
    return f"{when}{space}{where}{fetched:,} ページを取得。"


def _dropped_ja(answer: Mapping[str, Any]) -> str:
    dropped = _count(answer, "dropped_at_ingest")
    signals = _signals(answer)
    if dropped == 0:
        return "取り込み時の除外はなし。"
    if len(signals) == 1 and signals[0][1] == dropped:
        return f"うち {dropped:,} ページを除外（{reason_phrase(signals[0][0], 'ja')}）。"
    if not signals:
        return f"うち {dropped:,} ページを取り込み時に除外。"
    because = "、".join(f"{reason_phrase(r, 'ja')}：{n:,}" for r, n in signals)
    return f"うち {dropped:,} ページを除外（{because}）。"


def _kept_ja(answer: Mapping[str, Any]) -> str:
    kept = _count(answer, "kept")
    stage = _stage_of_kept(answer)
    if stage is None:
        when = "オプトアウトの後に"
    elif stage == answer.get("final_stage"):
        when = "クリーニング後に"
    else:
        when = f"クリーニング段階 {stage} の後に"
    waiting = _count(answer, "not_yet_cleaned")
    later = f"（うち {waiting:,} ページはクリーニング実施後の取得で、未処理）" if waiting and stage else ""
    return f"{when}残ったページはなし{later}。" if kept == 0 else f"{when}残ったのは {kept:,} ページ{later}。"


def _models_ja(models: list[tuple[str, int, list[str]]]) -> str:
    if not models:
        return "記録されたどのモデルの学習データにも含まれていません。"
    runs = ["" if len(r) < 2 else f"（実行 {'、'.join(r)}）" for _, _, r in models]
    (first, n, _), *rest = models
    if not rest:
        return f"{n:,} ページが {model_label(first)} の学習データに含まれていました{runs[0]}。"
    others = "、".join(
        f"{model_label(m)} に {k:,} ページ{r}" for (m, k, _), r in zip(rest, runs[1:], strict=True)
    )
    return f"{model_label(first)} の学習データに {n:,} ページ{runs[0]}、{others}が含まれていました。"
