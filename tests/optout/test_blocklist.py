"""Blocklists: files of domains whose pages are dropped with the reason blocklist:<name>."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiroku.optout import Blocklist, BlocklistError, Blocklists

PIRACY = """\
# Sites recognised as persistently infringing (example list)
piracy.example

*.manga-scans.example     # and every subdomain (the same as without "*.")
.torrents.example
例え.jp
"""


@pytest.fixture
def piracy(tmp_path: Path) -> Blocklist:
    path = tmp_path / "piracy.txt"
    path.write_text(PIRACY)
    return Blocklist.load("piracy", path)


def test_a_list_reads_its_domains_without_comments_and_blank_lines(piracy: Blocklist) -> None:
    assert piracy.domains == {"piracy.example", "manga-scans.example", "torrents.example", "xn--r8jz45g.jp"}


@pytest.mark.parametrize(
    ("host", "covered"),
    [
        ("piracy.example", True),
        ("www.piracy.example", True),
        ("cdn.eu.manga-scans.example", True),
        ("PIRACY.example.", True),
        ("例え.jp", True),
        ("www.xn--r8jz45g.jp", True),
        ("notpiracy.example", False),  # a suffix of the name, not of its labels
        ("piracy.example.org", False),
        ("example", False),
    ],
)
def test_a_listed_domain_and_its_subdomains_are_covered(piracy: Blocklist, host: str, covered: bool) -> None:
    assert piracy.covers(host) is covered


def test_each_list_that_covers_a_host_is_a_reason(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("piracy.example\n")
    (tmp_path / "b.txt").write_text("www.piracy.example\nother.example\n")
    lists = Blocklists.load({"regulator": tmp_path / "b.txt", "own": tmp_path / "a.txt"})
    assert lists.reasons("www.piracy.example") == ["blocklist:own", "blocklist:regulator"]
    assert lists.reasons("piracy.example") == ["blocklist:own"]
    assert lists.reasons("fine.example") == []
    assert not Blocklists() and lists


def test_a_missing_file_names_the_list_and_the_file(tmp_path: Path) -> None:
    with pytest.raises(BlocklistError, match=rf"^blocklist 'piracy': {tmp_path / 'gone.txt'}: no such file$"):
        Blocklists.load({"piracy": tmp_path / "gone.txt"})


def test_a_folder_is_not_a_list(tmp_path: Path) -> None:
    with pytest.raises(BlocklistError, match=rf"^blocklist 'piracy': {tmp_path}: cannot read"):
        Blocklist.load("piracy", tmp_path)


def test_a_line_that_is_not_a_domain_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text("piracy.example\nhttps://bad.example/path\n")
    with pytest.raises(
        BlocklistError, match=rf"^blocklist 'piracy': {path}: line 2: 'https://bad.example/path'"
    ):
        Blocklist.load("piracy", path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(b"piracy.example\n\xff\xfe\n")
    with pytest.raises(BlocklistError, match="not UTF-8 text"):
        Blocklist.load("piracy", path)


@pytest.mark.parametrize("name", ["Piracy", "piracy list", "", "-x", "a" * 65, "blocklist:x"])
def test_a_list_name_must_be_a_slug(tmp_path: Path, name: str) -> None:
    path = tmp_path / "list.txt"
    path.write_text("piracy.example\n")
    with pytest.raises(BlocklistError, match="must be 1 to 64 lower-case letters"):
        Blocklist.load(name, path)
