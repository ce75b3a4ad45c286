"""Decide whether a robots.txt lets a crawler fetch a URL, as RFC 9309 and Google's reference parser do.

``is_allowed(robots_txt, user_agent, url)`` is the stable entry point that outside checks call; ``decide``
returns the same answer with the group and the line that settled it; ``allowed_for_status`` says what RFC 9309
makes of a robots.txt fetch that did not return 200.

The matching itself is done by robotspy (``robots.RobotsParser``): it orders each group's rules by length,
allow before disallow on a tie, picks the group for the crawler (or ``*``) and matches the ``*`` and ``$``
patterns. This module is a thin layer that hands it input in the shape it handles correctly, and fixes what
robotspy gets wrong against google/robotstxt's ``robots_test.cc`` and RFC 9309:

* Lines are read as Google reads them: split at CR, LF or CRLF; a leading UTF-8 byte order mark (whole or
  partial) skipped; lines cut at 16,663 bytes; ``#`` comments dropped; a missing colon tolerated
  (``disallow /``); Google's common misspellings of the keys (``useragent``, ``dissallow``...) accepted;
  unknown lines (``Sitemap``...) ignored without ending a group.
* A ``user-agent`` value is reduced to its product token, the leading run of ``[A-Za-z_-]`` (``Foo Bar`` ->
  ``Foo``); ``*`` followed by anything after whitespace is the global group.
* Groups are merged here, one per product token, before robotspy sees them: robotspy's own merging shares one
  rule list between the agents of a group, so which rules an agent gets depends on ``PYTHONHASHSEED``.
* Patterns are percent-encoded as Google does (octets outside ASCII become ``%XX``, ``%xx`` becomes ``%XX``);
  robotspy would decode them instead, which makes ``/%62%61%7A`` match ``/baz`` and a raw ``ツ`` match
  ``%E3%83%84``.
* ``Allow: .../index.html`` also allows the directory itself (Google).
* The URL is reduced to path, parameters and query as Google does (fragment and authority dropped, ``""`` ->
  ``/``). robotspy would also collapse ``//`` in it (and put a ``/`` back after ``http:/``), and read ``[`` in
  a wildcard pattern and ``?`` in a ``$``-anchored one as ``fnmatch`` wildcards; these characters, and
  whitespace, get private stand-ins on both sides, so that they compare literally. One difference from Google
  remains: a ``/`` right after a ``*`` in a pattern does not match the second slash of a ``//`` in the URL
  (``/*/$`` and ``/a//``).
* ``/robots.txt`` itself is always allowed (RFC 9309 section 2.2.2); ``*`` and ``$`` in the URL are compared
  as ``%2A`` and ``%24`` (RFC 9309 section 2.2.3; a ``$`` inside a pattern thereby counts 3 octets towards its
  length).

Two things go beyond Google, both towards honouring an opt-out:

* User agents. Pass the crawler's product token (``GPTBot``). ``GPTBot/1.2`` is read as ``GPTBot``; anything
  else that is not a product token (``Foo Bar``, a whole ``User-Agent`` header) matches no named group, only
  ``*``, as in Google's parser.
* Percent-encoding of the URL is the caller's job (Google, RFC 9309 section 2.2.2). A URL with raw non-ASCII
  characters or lowercase escapes is decided as given (Google's answer) and, if that allows it, once more
  percent-encoded; if that spelling is disallowed, so is the URL. A rule ``Disallow: /記事/`` therefore blocks
  ``https://example.jp/記事/1`` as well as ``https://example.jp/%E8%A8%98%E4%BA%8B/1``.

Parsed robots.txt bodies are cached (``functools.lru_cache``, 1024 bodies, so that a crawl whose pages
interleave hundreds of sites does not parse each site's robots.txt again for every page: parsing a 2 KiB
robots.txt takes some 1.5 ms, deciding a URL some 0.06 ms), so repeated questions about one site cost only the
matching: some 10 KiB per entry for a 1 KiB robots.txt, 3 MiB for 500 KiB of rules. robotspy
compiles a regular expression (``fnmatch``, cached by the standard library) for each wildcard rule it tries,
so the first question about a robots.txt with thousands of wildcard rules is slow (about 0.5 ms a rule).
"""

from __future__ import annotations

import functools
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from robots import RobotsParser

__all__ = ["RobotsDecision", "allowed_for_status", "crawl_delay", "decide", "group_for", "is_allowed"]

# Google keeps at most 2083 * 8 - 1 bytes of a line (robots.cc, RobotsTxtParser::Parse).
_MAX_LINE_BYTES = 2083 * 8 - 1
_ASCII_WHITESPACE = " \t\n\v\f\r"  # absl::StripAsciiWhitespace and C isspace()
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# A UTF-8 byte order mark, whole or the partial ones Google also skips, as a str holds it once decoded:
# U+FEFF, cp1252/latin-1 mojibake of the whole mark, bytes kept by errors="surrogateescape", or
# errors="replace".
_BYTE_ORDER_MARKS = ("\ufeff", "\u00ef\u00bb\u00bf", "\udcef\udcbb\udcbf", "\udcef\udcbb", "\udcef", "\ufffd")
_PRODUCT_TOKEN = re.compile(r"[A-Za-z_-]*")
_CALLER_TOKEN = re.compile(r"([A-Za-z_-]+)(?:/\S*)?")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_LOWERCASE_ESCAPE = re.compile(r"%(?:[a-f][0-9A-Fa-f]|[0-9A-F][a-f])")
_PATH_START = re.compile(r"[/?;]")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# Keys as Google's ParsedRobotsKey reads them: a prefix match, ignoring ASCII case, typos included.
_USER_AGENT_KEYS = ("user-agent", "useragent", "user agent")
_DISALLOW_KEYS = ("disallow", "dissallow", "dissalow", "disalow", "diasllow", "disallaw")

# Private stand-ins for characters robotspy does not compare literally. Every non-ASCII character of a pattern
# is percent-encoded and every non-ASCII character of a URL is replaced (see _url_for_parser), so these cannot
# clash.
_REPEATED_SLASH = "\ue000"  # robotspy collapses "//" in the URL (but not in patterns)
_SCHEME_COLON = "\ue001"  # ... and then adds a "/" after every "http:/": the colon of "http:" is replaced
_STAND_INS = {"?": "\ue003", "[": "\ue004"}  # fnmatch wildcards in robotspy's wildcard patterns
_WHITESPACE_BASE = 0xE100  # ASCII whitespace: robotspy's rule lines stop at whitespace
_NON_ASCII_IN_URL = "\ufffd"  # a raw non-ASCII URL character never equals an (encoded) pattern character
_NEEDS_MASK = re.compile(r"//|https?:|[?\[$*\x09-\x0d\x1c-\x20]")


@dataclass(frozen=True, slots=True)
class RobotsDecision:
    """What a robots.txt says about one URL for one crawler.

    ``allowed`` is the answer. ``agent`` names the group that applied: the product token in lower case,
    ``"*"`` for the global group, or ``""`` when no group applies (then everything is allowed).
    ``matched_line`` is the ``Allow``/``Disallow`` line that decided, as written in the robots.txt, or
    ``None`` when no rule matched. ``reason`` explains the answer in a sentence, with the line number when a
    rule decided. ``line_number`` is the number (from 1) of ``matched_line`` in the robots.txt, or ``None``.
    """

    allowed: bool
    agent: str
    matched_line: str | None
    reason: str
    line_number: int | None = None


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A robots.txt as robotspy parsed it, with the source line behind each rule robotspy holds."""

    parser: RobotsParser
    groups: frozenset[str]
    text: str  # the robots.txt without its byte order mark
    line_starts: array[int]  # offset in text of each line
    # group -> ({pattern: source} of its disallow rules, {pattern: source} of its allow rules), where the
    # pattern is robotspy's own string and source is 2 * line number, + 1 if the rule was made from an
    # index.html
    sources: dict[str, tuple[dict[str, int], dict[str, int]]]

    def line(self, number: int) -> str:
        """Return line ``number`` (from 1) as Google read it, without surrounding whitespace."""
        start = self.line_starts[number - 1]
        end = _LINE_BREAK.search(self.text, start)
        return _truncate(self.text[start : end.start() if end else len(self.text)]).strip(_ASCII_WHITESPACE)


def is_allowed(robots_txt: str, user_agent: str, url: str) -> bool:
    """Return whether ``robots_txt`` lets the crawler ``user_agent`` fetch ``url`` (RFC 9309, as Google).

    ``robots_txt`` is the body of a robots.txt fetched with a 2xx status, decoded as UTF-8 (with
    ``errors="surrogateescape"``, undecodable bytes are matched as the bytes they are); ``""`` allows
    everything. For other statuses see ``allowed_for_status``. ``user_agent`` is the crawler's product token,
    such as ``"GPTBot"``. ``url`` should be percent-encoded; only its path, parameters and query are used.
    Never raises for any ``str`` arguments.
    """
    return decide(robots_txt, user_agent, url).allowed


def decide(robots_txt: str, user_agent: str, url: str) -> RobotsDecision:
    """Decide as ``is_allowed`` does, and say which group and which line decided."""
    path = _path_params_query(url)
    if path.partition("?")[0] == "/robots.txt":
        return RobotsDecision(True, "", None, "/robots.txt itself is always allowed (RFC 9309 section 2.2.2)")
    token = _caller_token(user_agent)
    parsed = _parse(robots_txt)
    if token is not None and token in parsed.groups:
        group = token
    elif "*" in parsed.groups:
        group = "*"
    else:
        if not parsed.groups:
            why = "the robots.txt has no user-agent groups"
        elif token is None:
            why = f"{user_agent!r} is not a product token, so only a '*' group could apply, and there is none"
        else:
            why = f"no group names {token!r} and there is no '*' group"
        return RobotsDecision(True, "", None, f"{why}: allowed")
    decision = _match(parsed, token, group, path, _url_for_parser(path))
    if not decision.allowed:
        return decision
    encoded = _percent_encoded(path)
    if encoded == path:
        return decision
    # Fail closed on a URL that is not percent-encoded: also decide its encoded spelling.
    encoded_decision = _match(parsed, token, group, encoded, _url_for_parser(encoded))
    if encoded_decision.allowed:
        return decision
    reason = f"{path!r} is not percent-encoded; as {encoded_decision.reason}"
    return RobotsDecision(False, group, encoded_decision.matched_line, reason, encoded_decision.line_number)


def group_for(robots_txt: str, user_agent: str) -> str:
    """Return the group of ``robots_txt`` that applies to ``user_agent``, named as `RobotsDecision.agent` names
    it: the product token in lower case, ``"*"``, or ``""`` when none applies (everything is allowed).

    Agents with the same group get the same answer for every URL, so a caller asking about several agents
    needs to `decide` once per distinct group.
    """
    token = _caller_token(user_agent)
    groups = _parse(robots_txt).groups
    if token is not None and token in groups:
        return token
    return "*" if "*" in groups else ""


def allowed_for_status(status: int) -> bool | None:
    """Return what RFC 9309 section 2.3.1 makes of the HTTP status of a robots.txt fetch.

    * 2xx: ``None``: parse the body and ask ``is_allowed``.
    * 4xx, 404 included ("unavailable"): ``True``, everything is allowed. 401 and 403 are 4xx too, although
      older parsers (``urllib.robotparser``, robotspy) read them as "disallow all". Google reads 429 as a
      server error; RFC 9309 does not, so neither does this function: a caller that wants to back off should
      do so itself.
    * 5xx ("unreachable"): ``False``, everything is disallowed until a robots.txt can be fetched (RFC 9309
      lets a crawler treat a robots.txt unreachable for a long time, e.g. 30 days, as unavailable or use a
      cached copy).
    * No response at all (DNS failure, refused connection, timeout): pass any status outside 100-599, e.g.
      ``0``; it is unreachable: ``False``.
    * 1xx and 3xx: ``False``. Redirects must be followed before calling this (RFC 9309 section 2.3.1.2: at
      least five); a 3xx here means they were not, or ran out, and an opt-out is not assumed away on that
      ground.
    """
    if 200 <= status <= 299:
        return None
    return 400 <= status <= 499


def _caller_token(user_agent: str) -> str | None:
    """Return the caller's product token in lower case (``GPTBot/1.2`` -> ``gptbot``), or None."""
    match = _CALLER_TOKEN.fullmatch(user_agent.strip(_ASCII_WHITESPACE))
    return match.group(1).translate(_ASCII_LOWER) if match else None


def _path_params_query(url: str) -> str:
    """Return the path, parameters and query of ``url`` (always from "/"), as Google's GetPathParamsQuery."""
    url = url.partition("\x00")[0]  # Google holds the path as a C string
    start = 2 if url.startswith("//") else 0
    early_path = _PATH_START.search(url, start)
    protocol = url.find("://", start)
    if protocol == -1 or (early_path is not None and early_path.start() < protocol):
        after_protocol = start
    else:
        after_protocol = protocol + 3
    path_start = _PATH_START.search(url, after_protocol)
    if path_start is None:
        return "/"
    begin = path_start.start()
    hash_pos = url.find("#", start)
    if hash_pos != -1 and hash_pos < begin:
        return "/"
    path = url[begin:] if hash_pos == -1 else url[begin:hash_pos]
    return path if path.startswith("/") else "/" + path


def _utf8(char: str) -> bytes:
    """Return the bytes behind ``char``; a surrogate from errors="surrogateescape" gives its original byte."""
    try:
        return char.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return char.encode("utf-8", "surrogatepass")


def _percent_encode_non_ascii(text: str) -> str:
    if text.isascii():
        return text
    return "".join(char if char.isascii() else "".join(f"%{b:02X}" for b in _utf8(char)) for char in text)


def _escape_pattern(value: str) -> str:
    """Return an Allow/Disallow value as Google's MaybeEscapePattern does (``%xx``, non-ASCII -> ``%XX``)."""
    if "%" in value:
        value = _ESCAPE.sub(lambda m: m.group(0).upper(), value)
    return _percent_encode_non_ascii(value)


def _percent_encoded(path: str) -> str:
    """Return the spelling of ``path`` RFC 3986 prefers: non-ASCII octets and lowercase escapes as ``%XX``."""
    if "%" in path and _LOWERCASE_ESCAPE.search(path):
        path = _ESCAPE.sub(lambda m: m.group(0).upper(), path)
    return _percent_encode_non_ascii(path)


def _mask(text: str, *, in_url: bool) -> str:
    """Replace the characters robotspy does not compare literally by stand-ins (one mapping, rules and URLs).

    In a URL, ``*`` and ``$`` become ``%2A`` and ``%24`` (RFC 9309 section 2.2.3); in a pattern they are the
    wildcard and, at the very end, the anchor, and a ``$`` elsewhere is a literal, i.e. ``%24``.
    """
    if not _NEEDS_MASK.search(text):
        return text
    out: list[str] = []
    last = len(text) - 1
    for i, char in enumerate(text):
        if char == "/":
            out.append(_REPEATED_SLASH if i and text[i - 1] == "/" else char)
        elif char == ":":
            out.append(_SCHEME_COLON if text.endswith(("http", "https"), 0, i) else char)
        elif char == "$":
            out.append("%24" if in_url or i != last else "$")
        elif char == "*":
            out.append("%2A" if in_url else "*")
        elif char in _STAND_INS:
            out.append(_STAND_INS[char])
        elif char.isspace() and char.isascii():
            out.append(chr(_WHITESPACE_BASE + ord(char)))
        else:
            out.append(char)
    return "".join(out)


def _url_for_parser(path: str) -> str:
    """Return ``path`` as robotspy must see it to compare it as Google would compare ``path``."""
    if not path.isascii():
        path = "".join(char if char.isascii() else _NON_ASCII_IN_URL for char in path)
    # robotspy unquotes the URL before matching; "%25" makes that give back exactly what it was given.
    return _mask(path, in_url=True).replace("%", "%25")


def _line_spans(text: str) -> Iterator[tuple[int, int]]:
    """Yield the start and end offsets of each line of ``text``, split at CR, LF or CRLF."""
    start = 0
    for line_break in _LINE_BREAK.finditer(text):
        yield start, line_break.start()
        start = line_break.end()
    yield start, len(text)


def _strip_byte_order_mark(text: str) -> str:
    for mark in _BYTE_ORDER_MARKS:
        if text.startswith(mark):
            return text[len(mark) :]
    return text


def _truncate(line: str) -> str:
    """Cut ``line`` to the bytes Google keeps of it."""
    line = line.partition("\x00")[0]  # Google holds the line as a C string
    if len(line) * 4 <= _MAX_LINE_BYTES:
        return line
    if line.isascii():
        return line[:_MAX_LINE_BYTES]
    size = 0
    for i, char in enumerate(line):
        size += len(_utf8(char))
        if size > _MAX_LINE_BYTES:
            return line[:i]
    return line


def _key_and_value(line: str) -> tuple[str, str] | None:
    """Split a line as Google's ``GetKeyAndValueFrom`` does, or return None if it has no key."""
    line = line.partition("#")[0].strip(_ASCII_WHITESPACE)
    sep = line.find(":")
    if sep == -1:
        # Google: without a colon, a run of blanks separates the key from the value if there are just two
        # words.
        sep = next((i for i, char in enumerate(line) if char in " \t"), -1)
        if sep == -1 or any(char in " \t" for char in line[sep:].lstrip(" \t")):
            return None
    key = line[:sep].strip(_ASCII_WHITESPACE)
    if not key:
        return None
    return key, line[sep + 1 :].strip(_ASCII_WHITESPACE)


def _group_name(value: str) -> str:
    """Return the group a user-agent value names: ``*``, a product token in lower case, or ``""`` (nobody)."""
    if value.startswith("*") and (len(value) == 1 or value[1] in _ASCII_WHITESPACE):
        return "*"
    token = _PRODUCT_TOKEN.match(value)
    return token.group(0).translate(_ASCII_LOWER) if token else ""


@functools.lru_cache(maxsize=1024)
def _parse(robots_txt: str) -> _Parsed:
    """Read ``robots_txt`` as Google does, merge its groups, and have robotspy parse the result."""
    text = _strip_byte_order_mark(robots_txt)
    line_starts = array("L")
    # group -> {(masked pattern, allowed): source line, as in _Parsed.sources}, in the order of the file
    rules: dict[str, dict[tuple[str, bool], int]] = {}
    agents: list[str] = []
    in_rules = False
    for number, (start, end) in enumerate(_line_spans(text), start=1):
        line_starts.append(start)
        line = _truncate(text[start:end])
        key_value = _key_and_value(line)
        if key_value is None:
            continue
        key, value = key_value
        key = key.translate(_ASCII_LOWER)
        if key.startswith(_USER_AGENT_KEYS):
            if in_rules:
                agents, in_rules = [], False
            name = _group_name(value)
            if name:
                agents.append(name)
                rules.setdefault(name, {})
            continue
        allowed = key.startswith("allow")
        if not allowed and not key.startswith(_DISALLOW_KEYS):
            continue  # Sitemap and unknown lines neither end nor open a group
        if not agents:
            continue  # a rule outside any group (or in a group that names no valid agent)
        in_rules = True
        if not value:
            continue  # an empty pattern matches with priority 0, i.e. has no effect
        pattern = _escape_pattern(value)
        variants = [(pattern, False)]
        if allowed:
            slash = pattern.rfind("/")
            if slash != -1 and pattern.startswith("/index.htm", slash):
                variants.append((pattern[: slash + 1] + "$", True))
        for variant, from_index_html in variants:
            rule = (_mask(variant, in_url=False), allowed)
            for agent in agents:
                rules[agent].setdefault(rule, 2 * number + from_index_html)
    lines: list[str] = []
    for agent, group_rules in rules.items():
        lines.append(f"user-agent: {agent}")
        lines.extend(
            f"{'allow' if ok else 'disallow'}: {masked.replace('%', '%25')}" for masked, ok in group_rules
        )
        lines.append("disallow:")  # ends the group even when it has no rules; robotspy ignores it otherwise
    parser = RobotsParser.from_string("\n".join(lines))
    # Key the sources by robotspy's own strings, so that the masked patterns above can be freed.
    sources: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
    for agent, group_rules in rules.items():
        disallows: dict[str, int] = {}
        allows: dict[str, int] = {}
        for rule in parser.agents_rules.get(agent, []):
            source = group_rules.get((rule.path, rule.allowed))
            if source is not None:
                (allows if rule.allowed else disallows)[rule.path] = source
        sources[agent] = (disallows, allows)
    return _Parsed(parser, frozenset(rules), text, line_starts, sources)


def _rule_matches(path: str, pattern: str) -> bool:
    """The test robotspy's ``can_fetch`` applies to each rule, used to find the rule behind its answer."""
    if pattern.endswith("$") and pattern[:-1] == path:
        return True
    if path.startswith(pattern):
        return True
    if pattern != "*" and "*" in pattern:
        return RobotsParser.startswith_pattern(path, pattern)
    return pattern == "*"


def _match(parsed: _Parsed, token: str | None, group: str, path: str, for_parser: str) -> RobotsDecision:
    agent = token or ""
    allowed = parsed.parser.can_fetch(agent, for_parser)
    seen = RobotsParser.normalize_url(for_parser)[1]
    group_text = "the '*' group" if group == "*" else f"the {group!r} group"
    verdict = "allowed" if allowed else "disallowed"
    for rule in parsed.parser.find_rules(agent):
        if _rule_matches(seen, rule.path):
            source = parsed.sources[group][rule.allowed].get(rule.path) if group in parsed.sources else None
            if rule.allowed != allowed or source is None:
                break
            number, from_index_html = divmod(source, 2)
            line = parsed.line(number)
            how = " (Google reads index.html as its directory too)" if from_index_html else ""
            reason = (
                f"{path!r}: {verdict} by line {number} of robots.txt{how}, the longest match in {group_text}"
            )
            return RobotsDecision(allowed, group, line, reason, number)
    if allowed:
        return RobotsDecision(True, group, None, f"{path!r}: no rule in {group_text} matches: allowed")
    return RobotsDecision(False, group, None, f"{path!r}: disallowed by {group_text}")


def crawl_delay(robots_txt: str, user_agent: str) -> float | None:
    """Return the ``Crawl-delay`` (seconds) of the group of ``robots_txt`` that applies to ``user_agent``, or
    None when that group sets none (or none applies). Not part of RFC 9309, but widely honoured.

    The group is chosen as `decide` chooses it (`group_for`); lines are read as Google reads them. A group named
    by several ``user-agent`` lines, or merged from several places, takes its first valid value; a value that is
    not a non-negative number is ignored.
    """
    group = group_for(robots_txt, user_agent)
    if not group:
        return None
    text = _strip_byte_order_mark(robots_txt)
    agents: list[str] = []
    in_rules = False
    for start, end in _line_spans(text):
        key_value = _key_and_value(_truncate(text[start:end]))
        if key_value is None:
            continue
        key, value = key_value
        key = key.translate(_ASCII_LOWER)
        if key.startswith(_USER_AGENT_KEYS):
            if in_rules:
                agents, in_rules = [], False
            name = _group_name(value)
            if name:
                agents.append(name)
            continue
        if key.startswith(("allow", *_DISALLOW_KEYS)):
            in_rules = bool(agents) or in_rules
            continue
        if key in ("crawl-delay", "crawldelay", "crawl delay") and agents:
            in_rules = True
            if group not in agents:
                continue
            try:
                delay = float(value)
            except ValueError:
                continue
            if delay >= 0 and delay == delay and delay != float("inf"):
                return delay
    return None
