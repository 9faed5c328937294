"""Hashed character and word n-gram features, computed with numpy arithmetic.

A text becomes a sparse vector: the buckets of its hashed byte 3-, 4- and 5-grams, word unigrams
and word bigrams, with log-scaled counts and unit L2 norm. Everything is vectorised over the UTF-8
bytes (no Python loop per n-gram): fixed-length n-gram hashes are sums of shifted byte arrays, and
the variable-length word hashes come from one prefix sum, because a polynomial hash of ``s[a:b]``
is ``(C[b] - C[a]) * P**-a`` modulo 2**64 when ``C`` is the prefix sum of ``s[j] * P**j`` and ``P``
is odd. numpy's unsigned arithmetic wraps, which is exactly the modulo 2**64 we need.

The hash is part of the model: change any constant here and the shipped weights are garbage, so
``FEATURE_CONFIG`` is written into the manifest and checked when the weights load.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

U64 = np.uint64
UInt64Array = npt.NDArray[np.uint64]
Int64Array = npt.NDArray[np.int64]
Float32Array = npt.NDArray[np.float32]

_P = U64(0x100000001B3)  # FNV-1a 64-bit prime: odd, so invertible modulo 2**64
_P_INV = U64(pow(int(_P), -1, 2**64))
_BIGRAM_MULT = U64(0x9E3779B97F4A7C15)
_MIX = U64(0xFF51AFD7ED558CCD)
_S29 = U64(29)
# One seed per feature family, so that the word "the" and the byte trigram "the" land apart.
_SEED_CHAR = {3: U64(0x3C6EF372FE94F82B), 4: U64(0xA54FF53A5F1D36F1), 5: U64(0x510E527FADE682D1)}
_SEED_WORD = U64(0x9B05688C2B3E6C1F)
_SEED_BIGRAM = U64(0x1F83D9ABFB41BD6B)

CHAR_NGRAMS = (3, 4, 5)
DEFAULT_BITS = 18
WINDOW_BYTES = 8192
"""Texts longer than this are scored per window (see ``windows``); training texts are shorter."""

FEATURE_CONFIG: dict[str, Any] = {
    "preprocess": "str.lower, whitespace runs collapsed to one space, UTF-8, space-padded",
    "char_ngrams_bytes": list(CHAR_NGRAMS),
    "word_ngrams": [1, 2],
    "word_bytes": "ASCII letters and digits and every byte >= 0x80",
    "hash": "poly mod 2**64 P=0x100000001B3, family seed, h^(h>>29), *0xFF51AFD7ED558CCD, top bits",
    "value": "count / sqrt(total n-gram occurrences)",
    "window_bytes": WINDOW_BYTES,
    "version": 1,
}

_WORD_BYTE = np.zeros(256, dtype=bool)
_WORD_BYTE[ord("0") : ord("9") + 1] = True
_WORD_BYTE[ord("a") : ord("z") + 1] = True
_WORD_BYTE[ord("A") : ord("Z") + 1] = True
_WORD_BYTE[0x80:] = True


class _Powers:
    """``P**j`` and ``P**-j`` modulo 2**64, grown on demand and shared by every call."""

    def __init__(self) -> None:
        self.pos: UInt64Array = np.ones(1, dtype=U64)
        self.neg: UInt64Array = np.ones(1, dtype=U64)

    def ensure(self, n: int) -> None:
        if n <= len(self.pos):
            return
        size = max(n, 2 * len(self.pos), 4096)
        # cumprod in uint64 wraps modulo 2**64, which is the arithmetic the hash is defined in.
        with np.errstate(over="ignore"):
            self.pos = np.concatenate(([U64(1)], np.cumprod(np.full(size - 1, _P, dtype=U64))))
            self.neg = np.concatenate(([U64(1)], np.cumprod(np.full(size - 1, _P_INV, dtype=U64))))


_POWERS = _Powers()


def _buckets(h: UInt64Array, bits: int) -> Int64Array:
    """Multiplicative hashing after a xor-shift: the top ``bits`` bits depend on every input bit.

    Works in place on ``h`` (a scratch array the caller owns); the result shares its memory."""
    h ^= h >> _S29
    h *= _MIX
    h >>= U64(64 - bits)
    # Below 2**bits, so the unsigned values read unchanged as signed: a view, not a copy.
    return h.view(np.int64)


def prepare(text: str) -> bytes:
    """The bytes the features are computed on: case and spacing carry little signal here."""
    return (" " + " ".join(text.lower().split()) + " ").encode("utf-8", "replace")


def windows(data: bytes, size: int = WINDOW_BYTES) -> list[bytes]:
    """Overlapping windows (half-size stride) of a long text, so that an attack deep inside a long
    document is scored in a context the size of those the model was trained on."""
    if len(data) <= size:
        return [data]
    step = size // 2
    starts = range(0, len(data) - step, step)
    return [data[s : s + size] for s in starts]


def ngram_buckets(data: bytes, bits: int = DEFAULT_BITS) -> Int64Array:
    """The feature bucket of every n-gram occurrence in ``data`` (from ``prepare``).

    A bucket appears once per occurrence; the model's input is the count of each bucket divided by
    the square root of the number of occurrences, so that a score is a sum of weights over this
    array without counting duplicates first (sorting would double the cost per message).
    """
    return _ngram_buckets(data, bits, with_offsets=False)[0]


def ngram_buckets_at(data: bytes, bits: int = DEFAULT_BITS) -> tuple[Int64Array, Int64Array]:
    """``ngram_buckets`` and, for each occurrence, the byte offset where it starts."""
    return _ngram_buckets(data, bits, with_offsets=True)


def _ngram_buckets(data: bytes, bits: int, *, with_offsets: bool) -> tuple[Int64Array, Int64Array]:
    b = np.frombuffer(data, dtype=np.uint8)
    n = len(b)
    empty = np.zeros(0, dtype=np.intp)
    if n == 0:
        return empty, empty
    v = b.astype(U64)
    offsets: list[Int64Array] = []
    with np.errstate(over="ignore"):
        words, starts = _word_hashes(b, v)
        n_words = len(words)
        # Every hash is written once into one buffer, in the order the model was trained with
        # (byte 3-, 4-, 5-grams, words, bigrams): the logit is a float sum over this order.
        sizes = [max(0, n - k + 1) for k in CHAR_NGRAMS]
        total = sum(sizes) + n_words + max(0, n_words - 1)
        if total == 0:
            return empty, empty
        out = np.empty(total, dtype=U64)
        cursor = 0
        # Byte n-grams: h_n[i] = sum_k v[i+k] * P**k, extended one byte at a time.
        h = v
        pk = U64(1)
        for k in range(1, max(CHAR_NGRAMS)):
            pk = pk * _P
            if len(h) <= 1:
                break
            step = v[k:] * pk
            step += h[:-1]
            h = step
            if k + 1 in CHAR_NGRAMS:
                np.add(h, _SEED_CHAR[k + 1], out=out[cursor : cursor + len(h)])
                cursor += len(h)
                if with_offsets:
                    offsets.append(np.arange(len(h), dtype=np.intp))
        if n_words:
            np.add(words, _SEED_WORD, out=out[cursor : cursor + n_words])
            cursor += n_words
            offsets.append(starts)
            if n_words > 1:
                bigram = out[cursor : cursor + n_words - 1]
                np.multiply(words[:-1], _BIGRAM_MULT, out=bigram)
                bigram += words[1:]
                bigram += _SEED_BIGRAM
                cursor += n_words - 1
                offsets.append(starts[:-1])
        if cursor == 0:
            return empty, empty
        buckets = _buckets(out[:cursor], bits)
        return buckets, (np.concatenate(offsets) if with_offsets else empty)


def _word_hashes(b: npt.NDArray[np.uint8], v: UInt64Array) -> tuple[UInt64Array, Int64Array]:
    """The polynomial hash of every word (maximal run of word bytes) and where each starts."""
    n = len(b)
    padded = np.zeros(n + 2, dtype=np.int8)
    padded[1:-1] = _WORD_BYTE[b]
    edges = padded[1:] - padded[:-1]
    starts = np.flatnonzero(edges == 1)
    if not len(starts):
        return np.zeros(0, dtype=U64), starts
    ends = np.flatnonzero(edges == -1)
    _POWERS.ensure(n + 1)
    prefix = np.zeros(n + 1, dtype=U64)
    np.cumsum(v * _POWERS.pos[:n], out=prefix[1:])
    words = (prefix[ends] - prefix[starts]) * _POWERS.neg[starts]
    return words, starts
