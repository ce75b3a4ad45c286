"""A trace answer in plain words, in English and Japanese (the same facts in both)."""

from __future__ import annotations

from typing import Any

__all__ = ["summary"]


def _scope_en(scope: str) -> str:
    if scope == "catalog":
        return "the training data kept in the catalog"
    kind, _, name = scope.partition(":")
    return f"the documents stage {name} kept" if kind == "stage" else f"the data mix of training run {name}"


def _scope_ja(scope: str) -> str:
    if scope == "catalog":
        return "カタログに保持された学習データ"
    kind, _, name = scope.partition(":")
    return f"クリーニング段階 {name} が残した文書" if kind == "stage" else f"学習実行 {name} のデータ"


def _semantic_sentences(answer: dict[str, Any]) -> tuple[str, str]:
    """The semantic tier's sentence for the plain answer, in English and Japanese ("" when it has nothing)."""
    if not answer.get("semantic"):
        return "", ""
    best = answer["semantic"][0]
    where = best["url"] or f"{best['source'] or 'document'} {best['id'][:16]}"
    return (
        f" The passage closest in meaning is in {where} (cosine {best['score']:.2f}; a paraphrase scores about 0.4"
        " or more, unrelated text under 0.2).",
        f"意味が最も近い文章は {where} にあります（コサイン類似度 {best['score']:.2f}。言い換えはおおむね 0.4 以上、"
        "無関係な文章は 0.2 未満）。",
    )


def summary(answer: dict[str, Any]) -> dict[str, str]:
    """Two or three sentences saying what was found, in ``en`` and ``ja``."""
    tokens = answer["output"]["tokens"]
    covered = answer["covered_tokens"]
    spans = answer["span_count"]
    n = answer["min_length"]
    scope_en, scope_ja = _scope_en(answer["scope"]), _scope_ja(answer["scope"])
    if spans:
        longest = max(answer["spans"], key=lambda s: s["length"])
        where = next((d["url"] or d["id"][:16] for d in longest["documents"]), "")
        en = (
            f"{answer['coverage']:.0%} of this output ({covered:,} of {tokens:,} tokens) appears verbatim in "
            f"{scope_en}, in {spans:,} span{'s' if spans != 1 else ''} of {n} or more tokens. The longest "
            f"({longest['length']} tokens) occurs {longest['count']:,} time{'s' if longest['count'] != 1 else ''}"
            + (f", for example in {where}." if where else ".")
        )
        ja = (
            f"この出力の {answer['coverage']:.0%}（{tokens:,} トークン中 {covered:,}）が{scope_ja}に"
            f"そのまま現れます（{n} トークン以上の一致 {spans:,} 箇所）。最長の一致（{longest['length']} トークン）は"
            f" {longest['count']:,} 回出現します" + (f"（例: {where}）。" if where else "。")
        )
    else:
        en = f"No span of {n} or more tokens of this output ({tokens:,} tokens) appears verbatim in {scope_en}."
        ja = f"この出力（{tokens:,} トークン）の {n} トークン以上の部分は、{scope_ja}にそのままでは現れません。"
    passages = answer["passages"]
    if passages:
        best = passages[0]
        what = (
            f"{len(passages)} passages of the training data are near-duplicates or close copies"
            if len(passages) != 1
            else "1 passage of the training data is a near-duplicate or close copy"
        )
        en += (
            f" {what} of parts of it (best: Jaccard {best['jaccard']:.2f}, containment "
            f"{best['containment']:.2f})."
        )
        ja += (
            f"学習データ中の {len(passages)} 個の文章が、この出力の一部と酷似しています（最大: Jaccard "
            f"{best['jaccard']:.2f}、包含率 {best['containment']:.2f}）。"
        )
    else:
        en += " No passage of the training data is a near-duplicate of it."
        ja += "学習データ中に酷似した文章はありません。"
    semantic_en, semantic_ja = _semantic_sentences(answer)
    return {"en": en + semantic_en, "ja": ja + semantic_ja}
