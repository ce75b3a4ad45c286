from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kiroku.catalog.urls import host_of, registrable_domain
from kiroku.domains.errors import InvalidName
from kiroku.domains.names import normalise_name, parse_target


@pytest.mark.parametrize(
    ("text", "name", "kind", "domain"),
    [
        ("example.com", "example.com", "domain", "example.com"),
        (" Example.COM. ", "example.com", "domain", "example.com"),
        ("news.example.co.jp", "news.example.co.jp", "host", "example.co.jp"),
        ("WWW.Example.Co.JP", "www.example.co.jp", "host", "example.co.jp"),
        ("_dmarc.example.com", "_dmarc.example.com", "host", "example.com"),
        ("foo_bar.example.com", "foo_bar.example.com", "host", "example.com"),
        ("city.kawasaki.jp", "city.kawasaki.jp", "domain", "city.kawasaki.jp"),
        ("alice.github.io", "alice.github.io", "domain", "alice.github.io"),
        ("localhost", "localhost", "domain", "localhost"),
        ("192.0.2.1", "192.0.2.1", "domain", "192.0.2.1"),
        ("192.0.2.1.", "192.0.2.1", "domain", "192.0.2.1"),
        ("[2001:DB8::1]", "2001:db8::1", "domain", "2001:db8::1"),
        ("2001:db8:0:0::1", "2001:db8::1", "domain", "2001:db8::1"),
        ("::1", "::1", "domain", "::1"),
    ],
)
def test_names(text: str, name: str, kind: str, domain: str) -> None:
    target = parse_target(text)
    assert (target.query, target.name, target.display) == (text.strip(), name, name)
    assert (target.kind, target.registrable_domain, target.path_prefix) == (kind, domain, None)
    assert normalise_name(text) == name


@pytest.mark.parametrize(
    ("text", "name", "display", "domain"),
    [
        ("例え.jp", "xn--r8jz45g.jp", "例え.jp", "xn--r8jz45g.jp"),
        (
            "例え。ＪＰ",
            "xn--r8jz45g.jp",
            "例え.jp",
            "xn--r8jz45g.jp",
        ),  # ideographic full stop, full-width letters
        ("xn--r8jz45g.jp", "xn--r8jz45g.jp", "例え.jp", "xn--r8jz45g.jp"),
        ("XN--R8JZ45G.JP", "xn--r8jz45g.jp", "例え.jp", "xn--r8jz45g.jp"),
        ("ＥＸＡＭＰＬＥ.com", "example.com", "example.com", "example.com"),
        ("ニュース.例え.jp", "xn--zck9awe6d.xn--r8jz45g.jp", "ニュース.例え.jp", "xn--r8jz45g.jp"),
        ("мойдомен.рф", "xn--d1acklchcc.xn--p1ai", "мойдомен.рф", "xn--d1acklchcc.xn--p1ai"),
        ("Faß.de", "xn--fa-hia.de", "faß.de", "xn--fa-hia.de"),  # IDNA 2008: ß is kept, not mapped to ss
    ],
)
def test_internationalised_names(text: str, name: str, display: str, domain: str) -> None:
    target = parse_target(text)
    assert (target.name, target.display, target.registrable_domain) == (name, display, domain)
    assert normalise_name(text) == name
    # round trips: the display form and the punycode form give the same target back
    assert parse_target(target.display).name == name
    assert parse_target(name).display == display


def test_names_match_the_catalog_hosts() -> None:
    """A name is normalised the way the catalog stores a URL's host, so lookups find it."""
    for url, typed in [
        ("https://News.Example.co.jp./a", "news.example.co.jp"),
        ("http://xn--r8jz45g.jp/", "例え.jp"),
        ("http://[2001:db8::1]/x", "[2001:db8::1]"),
        ("http://192.0.2.1:8080/", "192.0.2.1"),
    ]:
        host = host_of(url)
        assert host is not None
        target = parse_target(typed)
        assert target.name == host
        assert target.registrable_domain == registrable_domain(host)


def test_invalid_punycode_is_kept_as_typed() -> None:
    # hosts like this occur in real crawls; they are looked up by their ASCII form
    target = parse_target("xn--zz.example.com")
    assert (target.name, target.display, target.kind) == ("xn--zz.example.com", "xn--zz.example.com", "host")


@pytest.mark.parametrize(
    ("text", "name", "path"),
    [
        ("example.com/news/", "example.com", "/news/"),
        ("News.Example.com./news", "news.example.com", "/news"),
        ("例え.jp/ニュース/", "xn--r8jz45g.jp", "/%E3%83%8B%E3%83%A5%E3%83%BC%E3%82%B9/"),
        ("example.com/a%20b/", "example.com", "/a%20b/"),
        ("[2001:db8::1]/docs/", "2001:db8::1", "/docs/"),
    ],
)
def test_path_prefixes(text: str, name: str, path: str) -> None:
    target = parse_target(text)
    assert (target.name, target.kind, target.path_prefix) == (name, "prefix", path)
    assert target.registrable_domain == registrable_domain(name)
    assert normalise_name(text) is None  # a prefix is not a name


def test_a_bare_slash_is_the_whole_name() -> None:
    target = parse_target("example.com/")
    assert (target.kind, target.path_prefix) == ("domain", None)
    assert normalise_name("example.com/") == "example.com"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", ["no name given", "example.com"]),
        ("   ", ["no name given"]),
        ("exa mple.com", ["'exa mple.com'", "white space"]),
        ("example.com\tnews", ["white space"]),
        (
            "https://example.com/a.html",
            [
                "is a URL",
                "kiroku query url https://example.com/a.html",
                "for the whole site give example.com",
            ],
        ),
        (
            "https://Example.com/news/2026/a.html",
            ["is a URL", "kiroku query url", "give example.com/news/2026/"],
        ),
        ("http://example.com/", ["is a URL", "without a scheme, example.com"]),
        ("//example.com/a", ["is a URL"]),
        ("example.com:8080", ["'example.com:8080'", "port", "give example.com"]),
        ("example.com:8080/news/", ["port", "give example.com/news/"]),
        ("[2001:db8::1]:443", ["port", "give [2001:db8::1]"]),
        ("alice@example.com", ["user info", "give the name without it, example.com"]),
        ("alice:secret@example.com/a/", ["user info", "example.com/a/"]),
        ("example.com/news/?page=2", ["query string", "give example.com/news/"]),
        ("example.com?x=1", ["query string", "give example.com"]),
        ("example.com/news/#top", ["fragment", "give example.com/news/"]),
        ("a" * 64 + ".com", ["64 octets", "at most 63"]),
        (".".join(["a" * 60] * 5) + ".com", ["308 octets", "at most 253"]),
        ("日本語のドメイン名はとても長くなることがありますので注意.jp", ["label of 67 octets", "at most 63"]),
        ("a..b.com", ["empty label", "such as a.b.com"]),
        (".example.com", ["empty label", "such as example.com"]),
        ("例え..jp", ["empty label", "such as 例え.jp"]),
        ("ex!ample.com", ["not allowed", "'!'"]),
        ("exa<script>.com", ["not allowed", "'<'"]),
        ("*.example.com", ["wildcard", "covers every host"]),
        ("-example.com", ["starts or ends with '-'", "'-example'"]),
        ("example-.com", ["starts or ends with '-'"]),
        ("-例え.jp", ["starts or ends with '-'"]),
        ("co.jp", ["'co.jp' is a public suffix", "nothing can be registered", "example.co.jp"]),
        ("com", ["public suffix", "example.com"]),
        ("jp", ["public suffix"]),
        ("ＣＯ.ＪＰ", ["public suffix"]),
        ("github.io", ["public suffix"]),
        ("bar.kawasaki.jp", ["public suffix"]),  # *.kawasaki.jp
        ("рф", ["public suffix", "example.рф"]),
        ("co.jp/news/", ["public suffix"]),
        ("999.1.1.1", ["not an IPv4 address"]),
        ("example.123", ["never all digits"]),
        ("[example.com]", ["not a valid IPv6 address"]),
        ("[::1", ["not a valid IPv6 address"]),
        ("fe80::1%eth0", ["zone index"]),
        ("/news/", ["no name before the path"]),
        ("exa\u200dmple.com", ["not a valid internationalised domain name"]),
    ],
)
def test_invalid(text: str, says: list[str]) -> None:
    with pytest.raises(InvalidName) as caught:
        parse_target(text)
    message = str(caught.value)
    assert "\n" not in message
    for part in says:
        assert part in message
    assert normalise_name(text) is None


def test_messages_escape_control_characters() -> None:
    with pytest.raises(InvalidName) as caught:
        parse_target("a\x1b[31mb.com")
    assert "\x1b" not in str(caught.value)
    assert "\\x1b" in str(caught.value)


def test_long_input_is_shortened_in_the_message() -> None:
    with pytest.raises(InvalidName) as caught:
        parse_target("a" * 1000)
    assert len(str(caught.value)) < 250


# Text from an alphabet that reaches every branch: labels, dots (ASCII and ideographic), IDN, full-width,
# separators of URLs, digits for IP addresses, and characters that are never allowed.
_ALPHABET = "abcxyzABCZ0129-_.:/[]@?#%* \t例え。ＡＢｃ１ßрфxn"
_LABELS = st.sampled_from(
    ["example", "news", "www", "_dmarc", "co", "jp", "com", "io", "github", "kawasaki", "city", "例え", "ＥＸ",
     "xn--r8jz45g", "a-b", "-a", "b-", "", "a" * 63, "a" * 64, "192", "0", "xn--zz", "ß", "рф"]
)  # fmt: skip
_NAMES = st.lists(_LABELS, min_size=1, max_size=5).map(".".join)
_TEXT = st.one_of(
    st.text(_ALPHABET, max_size=30),
    _NAMES,
    st.tuples(_NAMES, st.sampled_from(["", ".", "/", "/news/", ":80", " ", "?q", "。"])).map("".join),
    st.tuples(st.sampled_from(["", "http://", "[", "u@", " "]), _NAMES).map("".join),
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
)


@settings(max_examples=1000, deadline=None)
@given(_TEXT)
@example("example.com")
@example("a.b")
@example("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61)  # 253 octets
@example("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 62)  # 254 octets
def test_normalise_name_agrees_with_parse_target(text: str) -> None:
    try:
        target = parse_target(text)
    except InvalidName:
        expected = None
    else:
        expected = target.name if target.path_prefix is None else None
        # a name is its own normal form, and the display form parses back to it
        assert normalise_name(target.name) == target.name
        assert parse_target(target.display).name == target.name
        assert target.name.isascii()
        assert target.name == target.name.lower()
        assert not target.name.endswith(".")
        assert target.kind in ("domain", "host", "prefix")
        assert (target.kind == "prefix") == (target.path_prefix is not None)
    assert normalise_name(text) == expected
