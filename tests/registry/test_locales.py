"""Every message of the registry's pages exists in both languages, and the Japanese ones are written in Japanese."""

from __future__ import annotations

import re

from kiroku.registry.i18n import messages

_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def test_both_languages_have_the_same_messages_and_placeholders() -> None:
    english, japanese = messages("en"), messages("ja")
    assert sorted(set(english) ^ set(japanese)) == []
    for key, text in english.items():
        assert sorted(_PLACEHOLDER.findall(text)) == sorted(_PLACEHOLDER.findall(japanese[key])), key


def test_japanese_messages_are_in_japanese() -> None:
    names = {"API", "robots.txt", "TDMRep", "—"}  # names and signs, the same in both languages
    untranslated = {key: text for key, text in messages("ja").items() if not _JAPANESE.search(text)}
    assert set(untranslated.values()) <= names, untranslated
