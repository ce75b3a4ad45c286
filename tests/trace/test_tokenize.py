"""The matching tokenizer against a plain per-character reference of its rules, on real text and generated text.

The reference (`reference_tokens`) normalises the whole text with `unicodedata` and the `regex` package's
Default_Ignorable property, then walks it one character at a time; the tokenizer must agree with it, and
`tokenize` must give the same tokens as `token_strings` with offsets that point at them in the original text.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from pathlib import Path

import hypothesis.strategies as st
import pytest
import regex  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings

from kiroku.trace import tokenize as module
from kiroku.trace.tokenize import TOKENIZER, UNICODE_VERSION, Token, token_offsets, token_strings, tokenize

LICENSES = sorted(p for p in Path("/usr/share/common-licenses").iterdir() if p.is_file())

# Written for these tests: plain prose with full-width Latin and digits, half-width katakana and kanji numerals.
JAPANESE = (
    "記録は、学習に使われたデータを後から確かめるための仕組みです。ウェブから集めた文章は、清掃の段階で多くが"
    "取り除かれます。残った文章だけがモデルの学習に使われるので、どの文書が最後まで残ったかを記録しておくことが"
    "大切です。権利者は、自分のサイトの文章が使われたかどうか、生成された出力が自分の作品を写していないかを知り"
    "たいと考えています。全角の「ＡＩ」や半角のｶﾀｶﾅ、２０２６年のような数字も、正規化すれば同じ文字として比べ"
    "られます。東京タワーの高さは三百三十三メートルで、一九五八年に完成しました。々や〆のような記号も一文字です。"
)

_IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")


def _nospace(char: str) -> bool:
    return any(a <= ord(char) <= b for a, b in module._NOSPACE_BLOCKS)


def normalised(text: str) -> str:
    return str(_IGNORABLE.sub("", unicodedata.normalize("NFKC", text).casefold()))


def reference_tokens(text: str) -> list[str]:
    """The module's rules, one character at a time over the normalised whole text."""
    tokens: list[str] = []
    current, kind = "", ""
    for char in normalised(text):
        major = unicodedata.category(char)[0]
        if major == "M":
            current, kind = (current + char, kind) if kind else (char, "word")
            continue
        if current and not (major in "LN" and kind == "word" and not _nospace(char)):
            tokens.append(current)
            current, kind = "", ""
        if major in "LN":
            current += char
            kind = "nospace" if _nospace(char) else "word"
    if current:
        tokens.append(current)
    return tokens


def check_offsets(text: str, tokens: list[Token]) -> None:
    """Offsets lie in the text and never go back, and the text each token spans normalises to a text holding it."""
    previous = Token("", 0, 0)
    for token in tokens:
        assert 0 <= token.start < token.end <= len(text)
        assert token.start >= previous.start and token.end >= previous.end
        assert token.text in normalised(text[token.start : token.end])
        previous = token


# characters where normalisation, case folding or the clusters have corners
TRICKY = (
    "aeiouAEIOU çÇñÑ ßẞİıſ ΣσςΐΰΆ ǰẖ ﬁﬂﬀﬃﬓ ½¼① ㍻㌀㈱ ™…℃ \u0301\u0300\u0308\u0327\u0344\u0345\u20dd"
    "ｶﾞｷﾟﾞﾟｰ ガパ か\u3099は\u309a ゛゜ ㄱㅏㅎ ᄀ\u1161\u11a8 가각 \u115f\u1160\u3164\uffa0"
    "ಕ\u0cbf\u0cd5 ෙ\u0dcf\u0dca ொ\u0bc6\u0bbe \u0b47\u0b3e क\u093f\u094d ก\u0e48\u0e38 ไทย ຄ\u0eb5 ម\u17c2 "
    "\u00ad\u200b\u200c\u200d\u2060\ufeff\ufe0f\U000e0100\u034f \u00a0\u2007\u3000\u2028 \x00\t\n\r"
    "ＡＢＣａｂｃ０１２ 𝐀𝐁𝟏 Ⅻⅻ ⁵₅ ①⑩ 東京都々〆〇 漢\U00020000\U0002a700 ー・「」。、 "
    "😀👍🏽 \ud800\udc00 -'’_.,:;!?()[]{}\"/\\@#$%^&*+=<>|~`"
)
tricky_text = st.text(alphabet=st.sampled_from(TRICKY), max_size=60)
any_text = st.text(alphabet=st.characters(codec=None), max_size=40)
mixed_text = st.lists(
    st.one_of(tricky_text, any_text, st.sampled_from([JAPANESE[:80], "Don't e-mail."])), max_size=4
)


def test_the_rules_by_example() -> None:
    assert token_strings("Hello, World! Don't e-mail me_now: 3.14") == [
        "hello", "world", "don", "t", "e", "mail", "me", "now", "3", "14",
    ]  # fmt: skip
    assert token_strings("東京タワー、２０２４年") == ["東", "京", "タ", "ワ", "ー", "2024", "年"]
    assert token_strings("ﬁnd the STRASSE Straße") == ["find", "the", "strasse", "strasse"]
    assert token_strings("ｶﾞｲﾄﾞ ガイド") == ["ガ", "イ", "ド", "ガ", "イ", "ド"]
    assert token_strings("co\u00adoper\u200bate") == ["cooperate"]
    assert token_strings("Ｆｕｌｌ　ｗｉｄｔｈ") == ["full", "width"]
    assert token_strings("½ ㍻") == ["1", "2", "平", "成"]
    assert token_strings("Москва, Ελλάδα, 서울") == ["москва", "ελλάδα", "서울"]
    assert token_strings("กุ้งไทย") == ["กุ้", "ง", "ไ", "ท", "ย"]  # marks stay with their letter
    assert token_strings("... !!! 😀") == []


def test_formatting_does_not_hide_copying() -> None:
    plain = token_strings("Cafe\u0301 naïve résumé, ｶﾀｶﾅ and ＡＩ")
    assert plain == token_strings("CAFÉ — NAÏVE  RÉSUMÉ; カタカナ AND AI")
    assert plain == token_strings("café nai\u0308ve re\u0301sume\u0301 \u30ab\u30bf\u30ab\u30ca and ai")


def test_tokens_are_frozen_with_slots() -> None:
    token = tokenize("Hello")[0]
    assert token == Token("hello", 0, 5)
    assert not hasattr(token, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        token.start = 1  # type: ignore[misc]
    assert TOKENIZER == "kiroku.tokens/v1"
    assert unicodedata.unidata_version == UNICODE_VERSION


@pytest.mark.parametrize("path", LICENSES, ids=lambda p: p.name)
def test_licenses_match_the_reference(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    assert token_strings(text) == reference_tokens(text)
    tokens = tokenize(text)
    assert [t.text for t in tokens] == token_strings(text)
    if text.isascii():
        assert all(text[t.start : t.end].lower() == t.text for t in tokens)
    else:
        check_offsets(text, tokens)


def test_japanese_prose() -> None:
    tokens = tokenize(JAPANESE)
    assert [t.text for t in tokens] == token_strings(JAPANESE) == reference_tokens(JAPANESE)
    check_offsets(JAPANESE, tokens)
    texts = [t.text for t in tokens]
    assert texts[:4] == ["記", "録", "は", "学"]
    assert "ai" in texts and "2026" in texts and "々" in texts and "〆" in texts
    half_width = [t.start for t in tokens].index(JAPANESE.index("ｶﾀｶﾅ"))
    assert texts[half_width : half_width + 4] == ["カ", "タ", "カ", "ナ"]
    assert JAPANESE[tokens[half_width].start : tokens[half_width + 3].end] == "ｶﾀｶﾅ"
    full_width = texts.index("2026")
    assert JAPANESE[tokens[full_width].start : tokens[full_width].end] == "２０２６"
    assert all(len(t) == 1 for t in texts if t not in {"ai", "2026"})


def test_offsets_cover_whole_clusters() -> None:
    text = "e\u0301te\u0301 ½ ｶﾞ ㄱㅏ !\u0301x"
    tokens = tokenize(text)
    assert [(t.text, text[t.start : t.end]) for t in tokens] == [
        ("été", "e\u0301te\u0301"),
        ("1", "½"),
        ("2", "½"),
        ("ガ", "ｶﾞ"),
        ("가", "ㄱㅏ"),
        ("\u0301x", "!\u0301x"),  # the mark's cluster holds the "!" it follows
    ]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(tricky_text, any_text, mixed_text.map("".join)))
def test_generated_text_matches_the_reference(text: str) -> None:
    expected = reference_tokens(text)
    assert token_strings(text) == expected
    tokens = tokenize(text)
    assert [t.text for t in tokens] == expected
    check_offsets(text, tokens)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(TRICKY)), min_size=1, max_size=8))
def test_few_hard_characters_in_long_text(insertions: list[tuple[int, str]]) -> None:
    """Long text with a few characters that need their cluster normalised (the splicing path)."""
    text = LICENSES[0].read_text(encoding="utf-8")[:20000]
    for where, char in insertions:
        at = where % (len(text) + 1)
        text = text[:at] + char + text[at:]
    assert token_strings(text) == reference_tokens(text)
    assert [t.text for t in tokenize(text)] == token_strings(text)


def test_text_longer_than_a_chunk_is_cut_between_tokens() -> None:
    body = "\n\n".join(p.read_text(encoding="utf-8", errors="replace") for p in LICENSES)
    # past one chunk: Japanese sentences after the licenses, numbered so that no line repeats
    lines = [f"{i}番目の文。{JAPANESE[i % len(JAPANESE) :]}" for i in range(module._CHUNK // 150)]
    text = body + "\n" + "\n".join(lines)
    assert len(text) > 1.2 * module._CHUNK
    expected = [token for line in text.split("\n") for token in token_strings(line)]
    assert token_strings(text) == expected
    tokens = tokenize(text)
    assert [t.text for t in tokens] == expected
    plain = [t for t in tokens if text[t.start : t.end].isascii()]
    assert len(plain) > 10000
    assert all(text[t.start : t.end].lower() == t.text for t in plain)
    assert all(t.text in normalised(text[t.start : t.end]) for t in tokens[::7])


def test_cut_characters_are_separators_that_start_clusters() -> None:
    tables = module._tables()
    for char in module._CUTS:
        assert tables.safe[ord(char)] and tables.single[ord(char)] == 0x20


def test_tables_agree_with_unicodedata_for_every_scanned_character() -> None:
    tables = module._tables()
    for a, b in module._SCANNED:
        for point in range(a, b):
            char = chr(point)
            single = int(tables.single[point])
            if not tables.safe[point]:
                assert single == 0
                continue
            normal = _IGNORABLE.sub("", unicodedata.normalize("NFKC", char).casefold())
            if len(normal) != 1:
                assert single == 0, hex(point)
            elif unicodedata.category(normal)[0] in "LNM":
                assert single == ord(normal), hex(point)
            else:
                assert single == 0x20, hex(point)


def test_composition_seconds_never_start_a_cluster() -> None:
    """Any character that canonical composition can join to what precedes it is not a cluster start."""
    tables = module._tables()
    seconds = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul vowels and finals
    firsts = set()
    for point in range(0x30000):
        mapping = unicodedata.decomposition(chr(point))
        if mapping and not mapping.startswith("<") and len(mapping.split()) == 2:
            head_point, tail_point = (int(x, 16) for x in mapping.split())
            firsts.add(head_point)
            seconds.add(tail_point)
    for point in range(0x30000):
        head = unicodedata.normalize("NFKD", chr(point))[0]
        if ord(head) in seconds or unicodedata.combining(head):
            assert not tables.safe[point], hex(point)
    # and before a cluster start, nothing composes: NFKC(first + c) == NFKC(first) + NFKC(c)
    starts = [
        chr(p)
        for p in range(0x30000)
        if tables.safe[p] and unicodedata.decomposition(chr(p)) and not 0xAC00 <= p <= 0xD7A3
    ] + ["가", "각", "힣"]
    for first in sorted(map(chr, firsts)):
        joined = "\n".join(first + c for c in starts)
        pieces = unicodedata.normalize("NFKC", joined).split("\n")
        head = unicodedata.normalize("NFKC", first)
        assert pieces == [head + unicodedata.normalize("NFKC", c) for c in starts], hex(ord(first))


def test_ignorables_are_unicodes_default_ignorables() -> None:
    everything = "".join(map(chr, range(0x110000)))
    listed = {p for a, b in module._IGNORABLE_RANGES for p in range(a, b + 1)}
    assert {ord(c) for c in _IGNORABLE.findall(everything)} == listed


def test_no_space_scripts_are_their_unicode_scripts() -> None:
    """Letters and digits of Han, Hiragana, Katakana, Thai, Lao, Khmer and Myanmar are single tokens; of Latin,
    Greek, Cyrillic, Hangul, Arabic, Hebrew and Devanagari they are not (script data of the `regex` package)."""
    everything = "".join(map(chr, range(0x110000)))
    tables = module._tables()

    def letters(script: str) -> list[str]:
        found = regex.findall(rf"[[\p{{{script}}}]&&[\p{{L}}\p{{N}}]]", everything, flags=regex.V1)
        return [c for c in found if unicodedata.category(c)[0] in "LN"]  # assigned in Python's Unicode too

    for script in ("Han", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Myanmar"):
        assert all(tables.classes[ord(c)] == module._NOSPACE for c in letters(script)), script
    for script in ("Latin", "Greek", "Cyrillic", "Hangul", "Arabic", "Hebrew", "Devanagari"):
        assert all(tables.classes[ord(c)] == module._WORD for c in letters(script)), script
    assert token_strings("ーｰ") == ["ー", "ー"]


def test_no_token_holds_a_space() -> None:
    tables = module._tables()
    for point in range(0x110000):
        if tables.classes[point] != module._SEP:
            assert not chr(point).isspace(), hex(point)


def test_empty_and_separator_only_text() -> None:
    for text in ("", " ", "\n\t", "...", "\u200b", "\x00", "\ud800"):
        assert token_strings(text) == [] and tokenize(text) == []


def test_token_offsets_are_the_offsets_of_tokenize() -> None:
    """`token_offsets` gives `tokenize`'s offsets without the strings, all of them or at least the first ``stop``;
    on a text longer than its short pieces, and on Japanese prose with full-width and half-width forms."""
    long_text = "\n\n".join(p.read_text(encoding="utf-8", errors="replace") for p in LICENSES[:6])
    assert len(long_text) > 3 * module._SHORT_CHUNK
    for text in (long_text, JAPANESE * 40, "", "。。 、"):
        tokens = tokenize(text)
        starts, ends = token_offsets(text)
        assert starts.tolist() == [t.start for t in tokens]
        assert ends.tolist() == [t.end for t in tokens]
        for stop in (1, 100, len(tokens) - 1, len(tokens) + 5):
            first, last = token_offsets(text, stop=stop)
            assert len(first) >= min(stop, len(tokens))
            assert first.tolist() == starts[: len(first)].tolist()
            assert last.tolist() == ends[: len(last)].tolist()
    first, _ = token_offsets(long_text, stop=10)
    assert len(first) < len(tokenize(long_text)) // 2  # read only as far as needed
