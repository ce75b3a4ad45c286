"""The matching tokenizer: the same tokens however a text is formatted, so formatting cannot hide copying.

Rules of ``kiroku.tokens/v1`` (`TOKENIZER`):

1. Normalise the text: Unicode NFKC, then full case folding (`str.casefold`), then delete the
   Default_Ignorable code points (soft hyphen, zero-width space and joiners, bidi controls, variation selectors,
   tags). Full-width forms, ligatures (ﬁ), compatibility characters (①, ㍻, ｶﾞ), case, soft hyphens and invisible
   characters therefore make no difference.
2. Classify each normalised character:

   - a letter or digit (Unicode categories L*, N*) of a script written without spaces is a token on its own:
     Han (including 々 〆 〇), Hiragana, Katakana (including the prolonged sound mark ー), Bopomofo, Yi, Thai, Lao,
     Khmer, Myanmar, Tangut, Khitan and Nushu, by their Unicode blocks (`_NOSPACE_BLOCKS`);
   - other letters and digits form words: a maximal run of them is one token;
   - a combining mark (M*) belongs to the token before it; after a separator it starts a word;
   - everything else (punctuation, symbols, spaces, controls, unassigned and private-use code points) separates
     tokens and is dropped.

   So apostrophes and hyphens split words ("don't" is ``don``, ``t``; "e-mail" is ``e``, ``mail``), as do ``_``
   and the points and commas inside numbers ("3.14" is ``3``, ``14``); "東京タワー" is ``東``, ``京``, ``タ``,
   ``ワ``, ``ー``.

Character data comes from Python's `unicodedata` (its version is `UNICODE_VERSION`): an index and a query
tokenized under different Unicode versions differ only on characters assigned in between.

`token_strings` is the fast path used to build indexes. `tokenize` returns the same tokens with their offsets in
the original text. To find them, it cuts the text into clusters: a cluster starts at every character that
normalisation never joins to what precedes it (canonical combining class 0, a decomposition that starts with such
a character, and never the second character of a canonical composition, which excludes e.g. Hangul vowel and
final jamo and the half-width voiced sound mark ﾞ), and holds the characters up to the next such start. NFKC and
case folding of a text are the concatenation of those of its clusters, so `tokenize` sees exactly the characters
`token_strings` sees, and every normalised character maps back to its cluster: a token spans whole clusters of
the original text. Tokens made from one character share its span ("½" gives ``1`` and ``2``, both spanning the
"½"); "é" written as e and U+0301 is one cluster, and a token that starts with a combining mark after
punctuation (the two are one cluster) spans the punctuation too. There is no corner where the two functions
disagree; lone surrogates (from undecodable bytes) are separators.

Speed (one core, shared machine): `token_strings` about 100 MB/s on ASCII text and 20-35 MB/s on English with
some non-ASCII characters, Cyrillic or Japanese text; `tokenize` a few MB/s (one `Token` object per token). The
per-code-point tables take about 0.15 s to build, once per process, on first use.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["TOKENIZER", "UNICODE_VERSION", "Token", "token_offsets", "token_strings", "tokenize"]

TOKENIZER: Final = "kiroku.tokens/v1"
UNICODE_VERSION: Final = unicodedata.unidata_version

# Unicode blocks of scripts written without spaces between words (only their letters and digits count).
_NOSPACE_BLOCKS: Final = (
    (0x0E00, 0x0E7F),  # Thai
    (0x0E80, 0x0EFF),  # Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x19E0, 0x19FF),  # Khmer symbols
    (0x2E80, 0x2FDF),  # CJK radicals supplement, Kangxi radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation (々 〆 〇, Hangzhou numerals, kana repeat marks)
    (0x3040, 0x30FF),  # Hiragana, Katakana (ー)
    (0x3100, 0x312F),  # Bopomofo
    (0x3190, 0x31FF),  # Kanbun, Bopomofo extended, CJK strokes, Katakana phonetic extensions
    (0x3200, 0x33FF),  # Enclosed CJK letters and months, CJK compatibility
    (0x3400, 0x4DBF),  # CJK unified ideographs extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA000, 0xA4CF),  # Yi syllables and radicals
    (0xA9E0, 0xA9FF),  # Myanmar extended-B
    (0xAA60, 0xAA7F),  # Myanmar extended-A
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF65, 0xFF9F),  # Half-width Katakana
    (0x116D0, 0x116FF),  # Myanmar extended-C
    (0x16FE0, 0x16FFF),  # Ideographic symbols and punctuation
    (0x17000, 0x18DFF),  # Tangut, Tangut components, Khitan small script, Tangut supplement
    (0x1AFF0, 0x1B2FF),  # Kana extended-B, Kana supplement, Kana extended-A, small Kana extension, Nushu
    (0x1F200, 0x1F2FF),  # Enclosed ideographic supplement
    (0x20000, 0x3FFFF),  # Supplementary and tertiary ideographic planes
)
# Default_Ignorable_Code_Point (DerivedCoreProperties.txt), deleted after NFKC and case folding
_IGNORABLE_RANGES: Final = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_IGNORABLE: Final = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _IGNORABLE_RANGES) + "]+")
# Code points whose character data is read one by one; beyond them lie unassigned planes and private use.
_SCANNED: Final = ((0, 0x40000), (0xE0000, 0xE1000))

# classes of normalised characters
_SEP: Final = 0
_WORD: Final = 1
_MARK: Final = 2
_NOSPACE: Final = 3
_NOSPACE_MARK: Final = 4  # a mark owned by a no-space character (resolved per text)
_SPACE: Final = 0x20
# ASCII: letters lower-cased, digits kept, everything else a space
_ASCII: Final = bytes(
    (b | 0x20 if chr(b).isalpha() else b) if chr(b).isalnum() else _SPACE for b in range(128)
) + bytes(range(128, 256))
# texts are processed in pieces of about this many characters, cut before a space (bounded temporary memory)
_CHUNK: Final = 1 << 20
# ... and in pieces of this many when only the first tokens are wanted (`token_offsets` with ``stop``)
_SHORT_CHUNK: Final = 1 << 14
_CUTS: Final = (" ", "\n", "\t", "\u3000", "\u3002")
# below one complex character in this many, `_normalise` splices their clusters in rather than mapping every one
_SPLICE: Final = 64
# characters that can join clusters for one normalisation call: cluster starts that no normalisation produces
_JOINERS: Final = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10"

Codepoints = npt.NDArray[np.uint32]


@dataclass(frozen=True, slots=True)
class Token:
    """A token: its normalised text and its character offsets ``[start, end)`` in the original text."""

    text: str
    start: int
    end: int


class _Tables(NamedTuple):
    """Per-code-point tables, built once per process from `unicodedata`."""

    safe: npt.NDArray[np.bool_]  # a cluster starts at this character
    single: Codepoints  # the one normalised character of a safe character (separators as a space), else 0
    classes: npt.NDArray[np.uint8]  # class of a normalised character


def token_strings(text: str) -> list[str]:
    """The tokens of ``text`` (see the module's rules), fast: what an index is built from."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII).decode("ascii").split()
    tokens: list[str] = []
    for _, piece in _pieces(text):
        if piece.isascii():
            tokens += piece.encode("ascii").translate(_ASCII).decode("ascii").split()
            continue
        normalised, _ = _normalise(piece, offsets=False)
        tokens += _spaced(normalised).split()
    return tokens


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text`` with their ``[start, end)`` offsets in ``text``; the same texts as `token_strings`."""
    tokens: list[Token] = []
    for base, piece in _pieces(text):
        normalised, spans = _normalise(piece, offsets=True)
        starts, ends = _bounds(_classes(normalised))
        chars = _text(normalised)
        if spans is None:
            tokens += [
                Token(chars[a:b], base + a, base + b)
                for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
            ]
        else:
            first = spans[0][starts].tolist()
            last = spans[1][ends - 1].tolist()
            tokens += [
                Token(chars[a:b], base + s, base + e)
                for a, b, s, e in zip(starts.tolist(), ends.tolist(), first, last, strict=True)
            ]
    return tokens


def token_offsets(text: str, stop: int | None = None) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The ``[start, end)`` offsets in ``text`` of the tokens `tokenize` gives, as two arrays, without the strings.

    With ``stop``, the text is read only until at least ``stop`` tokens are found (all of them if it holds fewer):
    a snippet of a long document needs the offsets up to its span, not the whole document tokenized.
    """
    starts: list[npt.NDArray[np.int64]] = []
    ends: list[npt.NDArray[np.int64]] = []
    found = 0
    for base, piece in _pieces(text, _CHUNK if stop is None else _SHORT_CHUNK):
        normalised, spans = _normalise(piece, offsets=True)
        first, after = _bounds(_classes(normalised))
        if spans is not None:
            first, after = spans[0][first], spans[1][after - 1]
        starts.append(first + base)
        ends.append(after + base)
        found += len(first)
        if stop is not None and found >= stop:
            break
    if not starts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(starts).astype(np.int64), np.concatenate(ends).astype(np.int64)


def _pieces(text: str, size: int = _CHUNK) -> Iterator[tuple[int, str]]:
    """``text`` in pieces of about ``size`` characters with their offsets, cut only before one of `_CUTS`.

    Those characters (spaces, tab, line feed, "。") start a cluster and separate tokens: nothing straddles a cut.
    """
    start = 0
    while len(text) - start > size:
        limit = start + size
        cut = max(text.rfind(c, start + size // 2, limit) for c in _CUTS)
        if cut <= start:
            break
        yield start, text[start:cut]
        start = cut
    yield start, text[start:] if start else text


def _codepoints(text: str) -> Codepoints:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _text(codepoints: Codepoints) -> str:
    return codepoints.astype("<u4", copy=False).tobytes().decode("utf-32-le", "surrogatepass")


def _normalise_one(text: str) -> str:
    """NFKC, case folding, Default_Ignorable code points deleted."""
    return _ignorables_deleted(unicodedata.normalize("NFKC", text).casefold())


def _ignorables_deleted(text: str) -> str:
    return _IGNORABLE.sub("", text) if _IGNORABLE.search(text) else text


def _normalise_clusters(clusters: list[str]) -> list[str]:
    """`_normalise_one` of each cluster, in one normalisation call when a joining character is free."""
    together = "".join(clusters)
    for joiner in _JOINERS:
        if joiner not in together:
            parts = _normalise_one(joiner.join(clusters)).split(joiner)
            if len(parts) == len(clusters):
                return parts
    return [_normalise_one(cluster) for cluster in clusters]


def _normalise(
    text: str, *, offsets: bool
) -> tuple[Codepoints, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None]:
    """The normalised code points of ``text`` (separators as spaces) and, with ``offsets``, each one's cluster
    ``[start, end)`` in ``text``.

    ``None`` instead of the spans means the identity: every character is its own cluster and normalises to one
    character.
    """
    tables = _tables()
    original = _codepoints(text)
    normalised = tables.single[original]
    complex_ = normalised == 0
    if not complex_.any():
        return normalised, None
    n = len(original)
    if not offsets:
        positions = np.flatnonzero(complex_)
        if len(positions) * _SPLICE < n:
            return _splice(text, original, normalised, positions), None
    safe = tables.safe[original]
    safe[0] = True
    starts = np.flatnonzero(safe)
    ends = np.append(starts[1:], n)
    cluster = np.cumsum(safe) - 1
    hard = np.unique(cluster[complex_])
    parts = _normalise_clusters(
        [text[a:b] for a, b in zip(starts[hard].tolist(), ends[hard].tolist(), strict=True)]
    )
    lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    out_lengths = np.ones(len(starts), dtype=np.int64)
    out_lengths[hard] = lengths
    out_starts = np.cumsum(out_lengths) - out_lengths
    result = np.empty(int(out_lengths.sum()), dtype=np.uint32)
    easy = np.ones(len(starts), dtype=np.bool_)
    easy[hard] = False
    result[out_starts[easy]] = normalised[starts[easy]]
    joined = _spaces(_codepoints("".join(parts)))
    within = np.arange(len(joined), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    result[np.repeat(out_starts[hard], lengths) + within] = joined
    if not offsets:
        return result, None
    return result, (np.repeat(starts, out_lengths), np.repeat(ends, out_lengths))


def _splice(
    text: str, original: Codepoints, normalised: Codepoints, positions: npt.NDArray[np.int64]
) -> Codepoints:
    """`_normalise` without offsets when few characters need their cluster normalised: splice those clusters in."""
    safe = _tables().safe
    n = len(original)
    starts = positions.copy()
    while True:  # back to the character that starts the cluster (or the text)
        back = (starts > 0) & ~safe[original[starts]]
        if not back.any():
            break
        starts[back] -= 1
    ends = positions + 1
    while True:  # on to the next cluster's start (or the end)
        on = ends < n
        on[on] = ~safe[original[ends[on]]]
        if not on.any():
            break
        ends[on] += 1
    first = np.ones(len(starts), dtype=np.bool_)
    first[1:] = starts[1:] != starts[:-1]
    starts, ends = starts[first].tolist(), ends[first].tolist()
    parts = _normalise_clusters([text[a:b] for a, b in zip(starts, ends, strict=True)])
    joined = _spaces(_codepoints("".join(parts)))
    pieces: list[Codepoints] = []
    previous = at = 0
    for a, b, part in zip(starts, ends, parts, strict=True):
        pieces.append(normalised[previous:a])
        pieces.append(joined[at : at + len(part)])
        previous, at = b, at + len(part)
    pieces.append(normalised[previous:])
    return np.concatenate(pieces)


def _spaces(codepoints: Codepoints) -> Codepoints:
    """Separators replaced by spaces, as `_Tables.single` has them."""
    return np.where(_tables().classes[codepoints] == _SEP, np.uint32(_SPACE), codepoints)


def _classes(normalised: Codepoints) -> npt.NDArray[np.uint8]:
    """The class of each normalised character, marks resolved to the class of the token they belong to."""
    classes = _tables().classes[normalised]
    marks = classes == _MARK
    if not marks.any():
        return classes
    # a mark belongs to the last non-mark character before it: a no-space character, a word, or a separator
    # (then the mark starts a word)
    owner = np.where(marks, -1, np.arange(len(classes)))
    np.maximum.accumulate(owner, out=owner)
    owner_class = np.where(owner >= 0, classes[np.maximum(owner, 0)], _SEP)
    resolved = np.where(owner_class == _NOSPACE, _NOSPACE_MARK, _WORD).astype(np.uint8)
    return np.where(marks, resolved, classes)


def _previous(classes: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    previous = np.empty_like(classes)
    previous[:1] = _SEP
    previous[1:] = classes[:-1]
    return previous


def _bounds(classes: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Token ``[start, end)`` positions in the normalised text."""
    previous = _previous(classes)
    start = (classes == _NOSPACE) | ((classes == _WORD) & (previous != _WORD))
    inside = classes != _SEP
    stop_after = np.empty_like(inside)
    stop_after[-1:] = True
    stop_after[:-1] = start[1:] | ~inside[1:]
    return np.flatnonzero(start), np.flatnonzero(inside & stop_after) + 1


def _spaced(normalised: Codepoints) -> str:
    """The normalised text (separators are spaces) with a space before every token that follows another."""
    classes = _tables().classes[normalised]
    if not (classes >= _MARK).any():  # letters, digits and separators only: already split by the spaces
        return _text(normalised)
    classes = _classes(normalised)
    spaced = normalised
    previous = _previous(classes)
    after_nospace = (previous == _NOSPACE) | (previous == _NOSPACE_MARK)
    glued = ((classes == _NOSPACE) & (previous != _SEP)) | ((classes == _WORD) & after_nospace)
    if glued.any():
        pairs = np.zeros((len(spaced), 2), dtype=np.uint32)
        pairs[glued, 0] = _SPACE
        pairs[:, 1] = spaced
        flat = pairs.ravel()
        spaced = flat[flat != 0]
    return _text(spaced)


@functools.cache
def _tables() -> _Tables:
    """Build the per-code-point tables (about 0.1 s, once per process)."""
    size = 0x110000
    points = np.concatenate([np.arange(a, b, dtype=np.int64) for a, b in _SCANNED])
    points = points[points != 0x0A]  # the line feed separates characters in the strings below
    chars = _text(points.astype(np.uint32))

    ccc = np.zeros(size, dtype=np.uint8)
    ccc[points] = np.fromiter(map(unicodedata.combining, chars), dtype=np.uint8, count=len(chars))
    # characters with a decomposition (Hangul syllables have theirs by rule); NFKD, NFD and NFKC keep the others
    mappings = np.frombuffer("\n".join(map(unicodedata.decomposition, chars)).encode("ascii"), dtype=np.uint8)
    ends = np.concatenate([[-1], np.flatnonzero(mappings == 0x0A), [len(mappings)]])
    kept = (np.diff(ends) == 1) & ~((points >= 0xAC00) & (points <= 0xD7A3))
    changed = points[~kept]
    firsts = points.copy()
    firsts[~kept] = _each(unicodedata.normalize("NFKD", _lines(changed)))[2]
    # the second of a canonical composition is in the canonical decomposition of the composite, after its first
    decomposed, _, _ = _each(unicodedata.normalize("NFD", _lines(changed)))
    follows = np.ones(len(decomposed), dtype=np.bool_)
    follows[0] = False
    breaks = np.flatnonzero(decomposed == 0x0A)
    follows[breaks] = False
    follows[breaks + 1] = False
    second = np.zeros(size, dtype=np.bool_)
    second[decomposed[follows]] = True
    safe = np.ones(size, dtype=np.bool_)
    safe[points] = (ccc[points] == 0) & (ccc[firsts] == 0) & ~second[firsts]

    classes = np.zeros(size, dtype=np.uint8)
    major = np.frombuffer("".join(map(unicodedata.category, chars)).encode("ascii"), dtype=np.uint8)[::2]
    nospace = np.zeros(size, dtype=np.bool_)
    for a, b in _NOSPACE_BLOCKS:
        nospace[a : b + 1] = True
    letter = (major == ord("L")) | (major == ord("N"))
    classes[points[letter]] = np.where(nospace[points[letter]], _NOSPACE, _WORD)
    classes[points[major == ord("M")]] = _MARK

    # code points not scanned are unassigned or private use: separators
    single = np.full(size, _SPACE, dtype=np.uint32)
    single[points] = 0
    for group, text in (
        (points[kept], _ignorables_deleted(_lines(points[kept]).casefold())),
        (changed, _normalise_one(_lines(changed))),
    ):
        _, one, values = _each(text)
        single[group[one]] = np.where(classes[values[one]] == _SEP, _SPACE, values[one])
    single[~safe] = 0
    single[0x0A] = _SPACE
    return _Tables(safe, single, classes)


def _lines(points: npt.NDArray[np.int64]) -> str:
    """The characters ``points`` with a line feed between each two."""
    lines = np.full((len(points), 2), 0x0A, dtype=np.uint32)
    lines[:, 0] = points
    return _text(lines.ravel()[:-1])


def _each(
    text: str,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """A text of lines: its code points, whether each line is one character, and each line's first character."""
    points = _codepoints(text).astype(np.int64)
    bounds = np.concatenate([[-1], np.flatnonzero(points == 0x0A), [len(points)]])
    firsts = np.append(points, 0x0A)[bounds[:-1] + 1]  # a line feed stands for an empty line
    return points, np.diff(bounds) == 2, firsts
