"""A reproducible train / dev / test split that keeps near-duplicates on one side.

Random splits of this data flatter any model: in-the-wild jailbreaks come in families of lightly
edited copies, and each BIPIA attack string is planted into four different documents. So records
are first grouped, and whole groups are assigned to a split:

* near-duplicates of the same label (MinHash over byte 5-grams, estimated Jaccard >= 0.5) form one
  group, whatever their source;
* BIPIA-style injected documents are grouped by the planted text, found by removing the clean
  document (present in the data as a benign/indirect record) from the injected one.

Groups are then ordered by a SHA-256 of their key within each ``label/kind/source`` stratum and cut
at the split fractions, so every source contributes to every split in proportion, and the split
depends on nothing but the data.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from garrison.monitoring.detectors.classifier.features import prepare
from garrison.monitoring.evaluation import Record

SPLITS = ("train", "dev", "test")
DEFAULT_FRACTIONS = (0.6, 0.2, 0.2)

_MINHASH_PERMUTATIONS = 32
_BANDS = 8
_JACCARD = 0.5
_AFFIX = 40
_MIN_GROUPS_PER_STRATUM = 5


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _shingles(text: str) -> np.ndarray:
    data = np.frombuffer(prepare(text), dtype=np.uint8).astype(np.uint64)
    if len(data) < 5:
        data = np.concatenate([data, np.zeros(5 - len(data), dtype=np.uint64)])
    with np.errstate(over="ignore"):
        h = np.zeros(len(data) - 4, dtype=np.uint64)
        for k in range(5):
            h = h * np.uint64(1099511628211) + data[k : len(data) - 4 + k]
    return np.unique(h)


def _minhashes(texts: Sequence[str]) -> np.ndarray:
    rng = np.random.default_rng(20240607)
    a = rng.integers(1, 2**63, size=_MINHASH_PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=_MINHASH_PERMUTATIONS, dtype=np.uint64)
    out = np.empty((len(texts), _MINHASH_PERMUTATIONS), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i, text in enumerate(texts):
            s = _shingles(text)
            out[i] = (s[:, None] * a[None, :] + b[None, :]).min(axis=0)
    return out


def _planted_text(record: Record, clean: dict[str, list[str]]) -> str | None:
    """The text planted into a clean document, if the clean document is among the records."""
    text = record.text
    candidates = clean.get("p:" + text[:_AFFIX], []) + clean.get("s:" + text[-_AFFIX:], [])
    for doc in candidates:
        if len(doc) >= len(text):
            continue
        head = 0
        limit = min(len(doc), len(text))
        while head < limit and doc[head] == text[head]:
            head += 1
        tail = 0
        while tail < limit - head and doc[-1 - tail] == text[-1 - tail]:
            tail += 1
        if head + tail >= len(doc):
            planted = text[head : len(text) - tail].strip()
            if planted:
                return planted
    return None


def group_keys(records: Sequence[Record]) -> list[str]:
    """One key per record; records with the same key must land in the same split."""
    n = len(records)
    uf = _UnionFind(n)

    clean: dict[str, list[str]] = defaultdict(list)
    for r in records:
        if r.label == "benign" and r.kind == "indirect":
            clean["p:" + r.text[:_AFFIX]].append(r.text)
            clean["s:" + r.text[-_AFFIX:]].append(r.text)
    by_planted: dict[str, int] = {}
    planted_found: set[int] = set()
    for i, r in enumerate(records):
        if r.label != "benign" and r.kind == "indirect":
            planted = _planted_text(r, clean)
            if planted is not None:
                first = by_planted.setdefault(" ".join(planted.lower().split()), i)
                uf.union(first, i)
                planted_found.add(i)

    signatures = _minhashes([r.text for r in records])
    rows = _MINHASH_PERMUTATIONS // _BANDS
    for band in range(_BANDS):
        buckets: dict[tuple[str, bytes], list[int]] = defaultdict(list)
        for i in range(n):
            # Documents that differ only by what was planted in them are near-duplicates by
            # construction; grouping them too would chain every document of the family into one
            # group. Their planted text decides their group instead.
            if i in planted_found:
                continue
            key = signatures[i, band * rows : (band + 1) * rows].tobytes()
            buckets[(records[i].label, key)].append(i)
        for members in buckets.values():
            for j in members[1:]:
                if (signatures[members[0]] == signatures[j]).mean() >= _JACCARD:
                    uf.union(members[0], j)

    roots = [uf.find(i) for i in range(n)]
    return [
        hashlib.sha256(
            (records[root].label + "\x00" + records[root].text).encode("utf-8", "replace")
        ).hexdigest()
        for root in roots
    ]


@dataclass(frozen=True)
class SplitResult:
    assignment: list[str]
    """``train``, ``dev`` or ``test`` per record."""
    groups: list[str]


def split_records(
    records: Sequence[Record], fractions: tuple[float, float, float] = DEFAULT_FRACTIONS
) -> SplitResult:
    keys = group_keys(records)
    # A group's split is decided once, in the stratum of its first record, so members of a
    # cross-source near-duplicate group can never disagree.
    groups_per_source: dict[str, set[str]] = defaultdict(set)
    for r, key in zip(records, keys, strict=True):
        groups_per_source[r.source].add(key)
    strata: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    owner: dict[str, tuple[str, str, str]] = {}
    for r, key in zip(records, keys, strict=True):
        if key not in owner:
            # Sources too small to split on their own are pooled, or a one-record source would
            # always land in train.
            big = len(groups_per_source[r.source]) >= _MIN_GROUPS_PER_STRATUM
            owner[key] = (r.label, r.kind, r.source if big else "")
            strata[owner[key]].append(key)
    decided: dict[str, str] = {}
    for stratum_keys in strata.values():
        ordered = sorted(stratum_keys)
        total = len(ordered)
        cut_train = round(total * fractions[0])
        cut_dev = round(total * (fractions[0] + fractions[1]))
        for position, key in enumerate(ordered):
            if position < cut_train:
                decided[key] = "train"
            elif position < cut_dev:
                decided[key] = "dev"
            else:
                decided[key] = "test"
    return SplitResult([decided[k] for k in keys], keys)
