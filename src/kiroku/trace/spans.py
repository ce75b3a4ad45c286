"""Exact spans, the way OLMoTrace finds them: maximal spans of a query that occur verbatim in suffix-array shards.

A maximal span of a query ``q`` is ``[s, e)`` with ``e - s >= min_length``, ``q[s:e]`` occurring in some shard
(never over a 0, never across a document separator), and neither ``q[s-1:e]`` nor ``q[s:e+1]`` occurring.

Work is split so that shards can be fanned out over threads or processes:

- `longest_matches` (one shard): for every query position ``s``, the longest ``L`` such that ``q[s:s+L]`` occurs in
  the shard (matching statistics), and, for each locally maximal start, its count and suffix-array ranges;
- `merge_matches` (all shards): the maximal spans of the union, with counts summed over the shards that hold them;
- `span_hits`: up to ``limit`` occurrences of a span in distinct documents.

The binary search is vectorised over all query positions at once: each probe gathers the packed tokens of every
row's middle suffix and compares them with the query bytes (big-endian fixed-width tokens compare like bytes).
A first search finds each position's insertion point and longest match within a short window, a second the
suffix-array range of that match; positions whose match fills the window are extended inside their range.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from kiroku.trace.suffix import SuffixShard

__all__ = [
    "Hit",
    "ShardMatches",
    "ShardRange",
    "Span",
    "find_spans",
    "longest_matches",
    "merge_matches",
    "span_hits",
]

# tokens compared per probe in the first search (most matches are shorter) and while extending longer ones
FIRST_WINDOW: Final = 16
EXTEND_WINDOW: Final = 64
# suffix-array entries checked per batch (left contexts of a sparse index, listing hits)
BATCH: Final = 1 << 16
# entries of a sparse block checked first for one matching left context before checking them all
PROBE: Final = 64

Int64s = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ShardRange:
    """Suffix-array entries ``lo..hi`` of shard ``shard`` whose suffix starts ``offset`` tokens into the span.

    With a dense shard ``offset`` is 0 and every entry is an occurrence; with a sparse one, an entry is an
    occurrence when the ``offset`` tokens before it equal the span's first tokens. ``count`` is how many are.
    """

    shard: int
    offset: int
    lo: int
    hi: int
    count: int


@dataclass(frozen=True)
class Span:
    """A maximal span ``start..end`` of the query (token offsets), occurring ``count`` times over all shards."""

    start: int
    end: int
    count: int
    ranges: tuple[ShardRange, ...]
    tokens: tuple[int, ...]

    @property
    def length(self) -> int:
        """Tokens in the span."""
        return self.end - self.start


@dataclass(frozen=True)
class Hit:
    """One occurrence of a span: shard (index in the list searched), document index and offset in that document."""

    shard: int
    doc_index: int
    offset: int
    position: int


@dataclass(frozen=True)
class ShardMatches:
    """One shard's matching statistics for a query.

    ``lengths[s]`` is the longest ``L`` with ``q[s:s+L]`` in the shard (for a sparse shard exact when it is at
    least ``min_length``, a lower bound below). ``starts`` are the locally maximal starts (length at least
    ``min_length``, not extendable to the left), with ``counts`` and ``ranges`` of ``q[s:s+lengths[s]]``.
    """

    shard: int
    lengths: Int64s
    starts: Int64s
    counts: Int64s
    ranges: tuple[tuple[ShardRange, ...], ...]


class _Query:
    """A query packed like the shard's token file, with run lengths up to the next unknown token."""

    def __init__(self, query: npt.ArrayLike, shard: SuffixShard) -> None:
        ids = np.asarray(query).reshape(-1)
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise ValueError("the query must be an array of integer token ids")
        ids = ids.astype(np.int64)
        ids[(ids < 0) | (ids > shard.vocab_size)] = 0  # cannot occur in this shard: breaks spans like 0
        n = len(ids)
        self.n = n
        self.width = shard.token_width
        index = np.arange(n, dtype=np.int64)
        stops = np.where(ids == 0, index, n)
        self.rem: Int64s = np.minimum.accumulate(stops[::-1])[::-1] - index if n else index
        pad = EXTEND_WINDOW + 8 + shard.sparse
        packed = np.zeros((n + pad, 4), dtype=np.uint8)
        packed[:n] = ids.astype(">u4").view(np.uint8).reshape(-1, 4)
        self.bytes = np.ascontiguousarray(packed[:, 4 - self.width :]).reshape(-1)
        self._views: dict[int, npt.NDArray[Any]] = {}

    def windows(self, positions: Int64s, width: int) -> npt.NDArray[np.uint8]:
        """Packed bytes of ``width`` query tokens from each position (zero past the end)."""
        size = width * self.width
        view = self._views.get(size)
        if view is None:
            view = np.ndarray(
                shape=(len(self.bytes) - size + 1,), dtype=f"S{size}", buffer=self.bytes, strides=(1,)
            )
            self._views[size] = view
        return view[positions * self.width].view(np.uint8).reshape(-1, size)


def _search(
    shard: SuffixShard,
    query: _Query,
    qpos: Int64s,
    toff: Int64s,
    length: Int64s,
    lo: Int64s,
    hi: Int64s,
    upper: npt.NDArray[np.bool_] | None,
) -> tuple[Int64s, Int64s, Int64s]:
    """Binary search per row for the pattern ``q[qpos:qpos+length]`` against suffixes read from ``toff`` on.

    Rows search ``lo..hi`` for the first entry not below the pattern (a suffix with the pattern as prefix counts
    as equal), or, where ``upper``, the first entry above it. Returns that index and the longest common prefix
    (tokens, capped at ``length``) with the last entries probed below and above it (0 where none was).
    """
    rows = len(lo)
    lcp_below = np.zeros(rows, dtype=np.int64)
    lcp_above = np.zeros(rows, dtype=np.int64)
    if rows == 0:
        return lo, lcp_below, lcp_above
    steps = int((hi - lo).max()).bit_length()
    width = -(-int(length.max()) // 4) * 4
    w = query.width
    pattern = query.windows(qpos, width)
    mask = np.arange(width * w) < (length * w)[:, None]
    line = np.arange(rows)
    last = shard.n_suffixes - 1
    for _ in range(steps):
        active = lo < hi
        mid = (lo + hi) >> 1
        text = shard.windows(shard.pointers(np.minimum(mid, last)) + toff, width)
        diff = (text != pattern) & mask
        first = diff.argmax(axis=1)
        differs = diff[line, first]
        below = differs & (text[line, first] < pattern[line, first])
        if upper is not None:
            below |= upper & ~differs
        below &= active
        above = active & ~below
        lcp = np.where(differs, first // w, length)
        lo = np.where(below, mid + 1, lo)
        lcp_below = np.where(below, lcp, lcp_below)
        hi = np.where(above, mid, hi)
        lcp_above = np.where(above, lcp, lcp_above)
    return lo, lcp_below, lcp_above


def _bounds_within(
    shard: SuffixShard, query: _Query, qpos: Int64s, toff: Int64s, length: Int64s, lo: Int64s, hi: Int64s
) -> tuple[Int64s, Int64s]:
    """Range of entries in ``lo..hi`` whose suffix, from ``toff`` on, starts with ``q[qpos:qpos+length]``."""
    rows = len(qpos)
    both, _, _ = _search(
        shard,
        query,
        np.concatenate([qpos, qpos]),
        np.concatenate([toff, toff]),
        np.concatenate([length, length]),
        np.concatenate([lo, lo]),
        np.concatenate([hi, hi]),
        np.repeat(np.array([False, True]), rows),
    )
    return both[:rows], both[rows:]


def _bounds(shard: SuffixShard, query: _Query, qpos: Int64s, length: Int64s) -> tuple[Int64s, Int64s]:
    """Suffix-array range of each pattern ``q[qpos:qpos+length]``, narrowed window by window."""
    rows = len(qpos)
    lo = np.zeros(rows, dtype=np.int64)
    hi = np.full(rows, shard.n_suffixes, dtype=np.int64)
    off = np.zeros(rows, dtype=np.int64)
    todo = np.flatnonzero(length > 0)
    while len(todo):
        part = np.minimum(EXTEND_WINDOW, length[todo] - off[todo])
        lo[todo], hi[todo] = _bounds_within(
            shard, query, qpos[todo] + off[todo], off[todo], part, lo[todo], hi[todo]
        )
        off[todo] += part
        todo = todo[(off[todo] < length[todo]) & (lo[todo] < hi[todo])]
    return lo, hi


def _matching_statistics(shard: SuffixShard, query: _Query) -> tuple[Int64s, Int64s, Int64s]:
    """Per query position: longest match among the indexed suffixes, and the range of entries holding it."""
    n = query.n
    length = np.zeros(n, dtype=np.int64)
    range_lo = np.zeros(n, dtype=np.int64)
    range_hi = np.zeros(n, dtype=np.int64)
    pos = np.flatnonzero(query.rem > 0)
    if shard.n_suffixes == 0 or not len(pos):
        return length, range_lo, range_hi
    off = np.zeros(len(pos), dtype=np.int64)
    lo = np.zeros(len(pos), dtype=np.int64)
    hi = np.full(len(pos), shard.n_suffixes, dtype=np.int64)
    window = FIRST_WINDOW
    while len(pos):
        part = np.minimum(window, query.rem[pos] - off)
        split, lcp_below, lcp_above = _search(shard, query, pos + off, off, part, lo, hi, None)
        grow = np.maximum(lcp_below, lcp_above)
        g = np.flatnonzero(grow > 0)
        if len(g):
            # the entries starting with the match lie around the insertion point: first one in lo..split,
            # first one past them in split..hi
            rows = len(g)
            both, _, _ = _search(
                shard,
                query,
                np.tile(pos[g] + off[g], 2),
                np.tile(off[g], 2),
                np.tile(grow[g], 2),
                np.concatenate([lo[g], split[g]]),
                np.concatenate([split[g], hi[g]]),
                np.repeat(np.array([False, True]), rows),
            )
            lo[g], hi[g] = both[:rows], both[rows:]
        off += grow
        done = (grow < part) | (off == query.rem[pos])
        d = pos[done]
        length[d], range_lo[d], range_hi[d] = off[done], lo[done], hi[done]
        keep = ~done
        pos, off, lo, hi = pos[keep], off[keep], lo[keep], hi[keep]
        window = EXTEND_WINDOW
    range_lo[length == 0] = 0
    range_hi[length == 0] = 0
    return length, range_lo, range_hi


def _batches(lo: Int64s, sizes: Int64s) -> Iterator[tuple[Int64s, Int64s]]:
    """(row, suffix-array index) pairs of the entries ``lo[r]..lo[r]+sizes[r]``, at most `BATCH` at a time."""
    pieces: list[tuple[int, int, int]] = []
    for row in np.flatnonzero(sizes > 0).tolist():
        start, size = int(lo[row]), int(sizes[row])
        pieces.extend((row, start + at, min(BATCH, size - at)) for at in range(0, size, BATCH))
    group: list[tuple[int, int, int]] = []
    total = 0
    for piece in [*pieces, (-1, 0, BATCH + 1)]:
        if group and total + piece[2] > BATCH:
            counts = np.array([p[2] for p in group], dtype=np.int64)
            rows = np.repeat(np.array([p[0] for p in group], dtype=np.int64), counts)
            starts = np.repeat(np.array([p[1] for p in group], dtype=np.int64), counts)
            before = np.repeat(np.cumsum(counts) - counts, counts)
            yield rows, starts + np.arange(len(rows), dtype=np.int64) - before
            group, total = [], 0
        group.append(piece)
        total += piece[2]


def _left_matches(
    shard: SuffixShard, query: _Query, positions: Int64s, before: Int64s, qpos: Int64s
) -> npt.NDArray[np.bool_]:
    """Whether the ``before`` tokens ahead of each text position equal ``q[qpos:qpos+before]``."""
    ok = positions >= before
    width = int(before.max()) if len(before) else 0
    if width == 0:
        return ok
    text = shard.windows(np.maximum(positions - before, 0), width)
    pattern = query.windows(qpos, width)
    mask = np.arange(width * query.width) < (before * query.width)[:, None]
    differs: npt.NDArray[np.bool_] = ((text != pattern) & mask).any(axis=1)
    return ok & ~differs


def _count_left(
    shard: SuffixShard, query: _Query, lo: Int64s, sizes: Int64s, before: Int64s, qpos: Int64s
) -> Int64s:
    """Per row, how many entries ``lo..lo+size`` have ``q[qpos:qpos+before]`` just ahead of their suffix."""
    counts = np.zeros(len(lo), dtype=np.int64)
    for rows, indexes in _batches(lo, sizes):
        ok = _left_matches(shard, query, shard.pointers(indexes), before[rows], qpos[rows])
        counts += np.bincount(rows[ok], minlength=len(lo))
    return counts


def _extend(shard: SuffixShard, query: _Query, positions: Int64s, qpos: Int64s, limit: Int64s) -> Int64s:
    """Longest common prefix (tokens, up to ``limit``) of the text at ``positions`` and the query at ``qpos``."""
    done = np.zeros(len(positions), dtype=np.int64)
    todo = np.flatnonzero(limit > 0)
    w = query.width
    while len(todo):
        part = np.minimum(EXTEND_WINDOW, limit[todo] - done[todo])
        text = shard.windows(positions[todo] + done[todo], EXTEND_WINDOW)
        pattern = query.windows(qpos[todo] + done[todo], EXTEND_WINDOW)
        diff = (text != pattern) & (np.arange(EXTEND_WINDOW * w) < (part * w)[:, None])
        differs = diff.any(axis=1)
        grow = np.where(differs, diff.argmax(axis=1) // w, part)
        done[todo] += grow
        todo = todo[(grow == part) & (done[todo] < limit[todo])]
    return done


def _sparse_lengths(
    shard: SuffixShard, query: _Query, found: Int64s, lo: Int64s, hi: Int64s, min_length: int
) -> Int64s:
    """Longest match per position in a sparse shard: exact where at least ``min_length``, a lower bound below.

    An occurrence at text position t of a match starting at query position s is indexed at t + j (j < k, the
    first indexed position): the indexed suffix matches ``q[s+j:]`` and the j tokens before it equal ``q[s:s+j]``.
    """
    best = found.copy()
    n = query.n
    rows_s: list[Int64s] = []
    rows_j: list[Int64s] = []
    for shift in range(1, min(shard.sparse, n)):
        here = np.arange(n - shift, dtype=np.int64)
        after = found[here + shift] + shift
        pick = (query.rem[here] > shift) & (after >= min_length) & (after > best[here])
        rows_s.append(here[pick])
        rows_j.append(np.full(int(pick.sum()), shift, dtype=np.int64))
    if not rows_s:
        return best
    s = np.concatenate(rows_s)
    j = np.concatenate(rows_j)
    if not len(s):
        return best
    at = s + j
    # the longest indexed match from s + j, if some entry holding it has the right left context
    sizes = hi[at] - lo[at]
    hits = _count_left(shard, query, lo[at], np.minimum(sizes, PROBE), j, s)
    rest = np.flatnonzero((hits == 0) & (sizes > PROBE))
    if len(rest):
        hits[rest] = _count_left(shard, query, lo[at[rest]] + PROBE, sizes[rest] - PROBE, j[rest], s[rest])
    ok = hits > 0
    np.maximum.at(best, s[ok], found[at[ok]] + j[ok])
    # otherwise a shorter one: the entries starting with q[s+j : s+min_length], extended one by one
    miss = np.flatnonzero(~ok)
    if len(miss):
        s, j = s[miss], j[miss]
        blo, bhi = _bounds(shard, query, s + j, min_length - j)
        for rows, indexes in _batches(blo, bhi - blo):
            positions = shard.pointers(indexes)
            good = _left_matches(shard, query, positions, j[rows], s[rows])
            rows, positions = rows[good], positions[good]
            if len(rows):
                qpos = s[rows] + j[rows]
                grown = _extend(shard, query, positions, qpos, query.rem[qpos])
                np.maximum.at(best, s[rows], grown + j[rows])
    return best


def _local_starts(lengths: Int64s, min_length: int) -> Int64s:
    """Starts of spans at least ``min_length`` long that the previous position does not extend to the left."""
    previous = np.concatenate([np.zeros(1, dtype=np.int64), lengths[:-1]])
    return np.flatnonzero((lengths >= min_length) & (previous <= lengths)).astype(np.int64)


def longest_matches(
    shard: SuffixShard, query: npt.ArrayLike, min_length: int = 8, *, shard_index: int = 0
) -> ShardMatches:
    """One shard's matching statistics for ``query`` (token ids, 0 or ids the shard cannot hold break spans).

    Independent of other shards: fan shards out over threads or processes and combine with `merge_matches`.
    A sparse shard (every k-th suffix) needs ``min_length >= k``; ValueError otherwise.
    """
    if min_length < 1:
        raise ValueError(f"min_length must be at least 1, got {min_length}")
    if min_length < shard.sparse:
        raise ValueError(
            f"{shard.directory} indexes every {shard.sparse}th suffix: spans shorter than {shard.sparse} tokens "
            f"cannot be found there; use min_length >= {shard.sparse}"
        )
    packed = _Query(query, shard)
    found, lo, hi = _matching_statistics(shard, packed)
    k = shard.sparse
    if k == 1:
        lengths = found
        starts = _local_starts(lengths, min_length)
        counts = hi[starts] - lo[starts]
        ranges: tuple[tuple[ShardRange, ...], ...] = tuple(
            (ShardRange(shard_index, 0, int(lo[s]), int(hi[s]), int(c)),)
            for s, c in zip(starts, counts, strict=True)
        )
        return ShardMatches(shard_index, lengths, starts, counts, ranges)
    lengths = _sparse_lengths(shard, packed, found, lo, hi, min_length)
    starts = _local_starts(lengths, min_length)
    s = np.repeat(starts, k)
    j = np.tile(np.arange(k, dtype=np.int64), len(starts))
    blo, bhi = _bounds(shard, packed, s + j, lengths[s] - j)
    hits = _count_left(shard, packed, blo, bhi - blo, j, s)
    counts = hits.reshape(-1, k).sum(axis=1) if len(starts) else np.zeros(0, dtype=np.int64)
    ranges = tuple(
        tuple(
            ShardRange(shard_index, int(j[r]), int(blo[r]), int(bhi[r]), int(hits[r]))
            for r in range(row * k, row * k + k)
            if hits[r]
        )
        for row in range(len(starts))
    )
    return ShardMatches(shard_index, lengths, starts, counts.astype(np.int64), ranges)


def merge_matches(matches: Sequence[ShardMatches], query: npt.ArrayLike, min_length: int = 8) -> list[Span]:
    """The maximal spans over all shards from each shard's `longest_matches`, in order of start."""
    ids = np.asarray(query).reshape(-1)
    if not matches or not len(ids):
        return []
    lengths = np.max(np.stack([m.lengths for m in matches]), axis=0)
    per_shard = [
        {int(s): (int(c), r) for s, c, r in zip(m.starts, m.counts, m.ranges, strict=True)} for m in matches
    ]
    spans = []
    for start in _local_starts(lengths, min_length).tolist():
        length = int(lengths[start])
        count = 0
        ranges: list[ShardRange] = []
        for match, table in zip(matches, per_shard, strict=True):
            if match.lengths[start] == length:
                shard_count, shard_ranges = table[start]
                count += shard_count
                ranges.extend(shard_ranges)
        spans.append(
            Span(
                start,
                start + length,
                count,
                tuple(ranges),
                tuple(int(t) for t in ids[start : start + length]),
            )
        )
    return spans


def find_spans(shards: Sequence[SuffixShard], query: npt.ArrayLike, min_length: int = 8) -> list[Span]:
    """Every maximal span of ``query`` at least ``min_length`` tokens long over ``shards``, with its total count."""
    matches = [longest_matches(shard, query, min_length, shard_index=i) for i, shard in enumerate(shards)]
    return merge_matches(matches, query, min_length)


def span_hits(shards: Sequence[SuffixShard], span: Span, limit: int) -> list[Hit]:
    """Up to ``limit`` occurrences of ``span`` in distinct documents, ordered by shard, document and offset.

    Documents are taken shard by shard in suffix-array order, so the same index always gives the same hits.
    """
    hits: list[Hit] = []
    seen: set[tuple[int, int]] = set()
    queries: dict[int, _Query] = {}
    for part in span.ranges:
        if len(hits) >= limit:
            break
        shard = shards[part.shard]
        query = queries.setdefault(part.shard, _Query(np.array(span.tokens, dtype=np.int64), shard))
        for begin in range(part.lo, part.hi, BATCH):
            positions = (
                shard.pointers(np.arange(begin, min(part.hi, begin + BATCH), dtype=np.int64)) - part.offset
            )
            if part.offset:
                before = np.full(len(positions), part.offset, dtype=np.int64)
                keep = _left_matches(shard, query, positions + part.offset, before, np.zeros_like(before))
                positions = positions[keep]
            docs, offsets = shard.locate(positions)
            _, first = np.unique(docs, return_index=True)
            for at in np.sort(first).tolist():
                key = (part.shard, int(docs[at]))
                if key in seen:
                    continue
                seen.add(key)
                hits.append(Hit(part.shard, int(docs[at]), int(offsets[at]), int(positions[at])))
                if len(hits) >= limit:
                    break
            if len(hits) >= limit:
                break
    return sorted(hits, key=lambda h: (h.shard, h.doc_index, h.offset))
