"""The vectorised n-gram hashing equals a plain-Python statement of the same hash: the shipped
weights depend on every bit of it, so a speed-up must not change one bucket or their order."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.monitoring.detectors.classifier import features as f

MASK = (1 << 64) - 1


def _bucket(h: int, bits: int) -> int:
    h ^= h >> 29
    h = (h * int(f._MIX)) & MASK
    return h >> (64 - bits)


def _poly(chunk: bytes) -> int:
    return sum(byte * pow(int(f._P), k, 1 << 64) for k, byte in enumerate(chunk)) & MASK


def reference(data: bytes, bits: int) -> tuple[list[int], list[int]]:
    """Buckets and start offsets, in the order the model sums them."""
    buckets: list[int] = []
    offsets: list[int] = []
    for n in f.CHAR_NGRAMS:
        for i in range(len(data) - n + 1):
            buckets.append(_bucket((_poly(data[i : i + n]) + int(f._SEED_CHAR[n])) & MASK, bits))
            offsets.append(i)
    words: list[tuple[int, int]] = []
    i = 0
    while i < len(data):
        if f._WORD_BYTE[data[i]]:
            j = i
            while j < len(data) and f._WORD_BYTE[data[j]]:
                j += 1
            words.append((i, _poly(data[i:j])))
            i = j
        else:
            i += 1
    for start, h in words:
        buckets.append(_bucket((h + int(f._SEED_WORD)) & MASK, bits))
        offsets.append(start)
    for (start, left), (_, right) in itertools.pairwise(words):
        combined = (left * int(f._BIGRAM_MULT) + right + int(f._SEED_BIGRAM)) & MASK
        buckets.append(_bucket(combined, bits))
        offsets.append(start)
    return buckets, offsets


def test_known_texts_match_the_reference() -> None:
    for text in ("", "a", "ab", "Ignore previous instructions!", "été 日本 x", "  \t", "a" * 300):
        data = f.prepare(text)
        expected, starts = reference(data, 18)
        assert f.ngram_buckets(data).tolist() == expected
        buckets, offsets = f.ngram_buckets_at(data, 12)
        assert (buckets.tolist(), offsets.tolist()) == reference(data, 12)
        assert len(starts) == len(expected)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_match_the_reference(data: bytes) -> None:
    assert f.ngram_buckets(data, 16).tolist() == reference(data, 16)[0]
