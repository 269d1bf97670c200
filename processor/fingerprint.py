"""Near-duplicate fingerprints: MinHash over word shingles, with LSH band keys.

The same wire report republished elsewhere keeps most of its three-word runs
(shingles) even when it is retitled, trimmed or wrapped in other boilerplate;
two different reports share almost none, even about the same base, and a
translation shares none. The Jaccard similarity of two documents' shingle sets
separates them, and MinHash estimates it from fixed-size signatures: the share
of positions where two signatures agree. Signatures are cut into bands; two
documents that agree on a whole band become candidates (locality-sensitive
hashing), so a lookup touches a handful of rows instead of every article.
docs/near-duplicates.md has the parameters, the measurements behind them and
the detection curve.

Everything is vectorized with numpy (about 0.1-0.2 ms for 5,000 characters)
and deterministic across processes and runs: word hashes are polynomial over
code points, the permutation family comes from SHAKE-256 of a fixed label.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

SHINGLE_WORDS = 3
PERMUTATIONS = 128
# LSH over the first BANDS × ROWS signature values: two documents become candidates
# with probability 1 - (1 - s^ROWS)^BANDS at similarity s (``detection_probability``):
# 0.986 at the threshold 0.5, 0.9995 at 0.6; 0.004 at 0.05. All PERMUTATIONS values
# estimate the similarity itself.
BANDS = 32
ROWS = 3
# Estimated Jaccard similarity from which a document is a near-duplicate of an article:
# edited copies of the seeds measure 0.6-1.0, different reports 0.0-0.1 (tests/unit/
# test_near_duplicates.py, docs/near-duplicates.md).
NEAR_DUPLICATE_THRESHOLD = 0.5
# Shorter documents get no bands: a few shared phrases would make them look alike,
# and the exact content hash already catches their copies.
MIN_WORDS = 20

_U64 = np.uint64
# The band index occupies the top bits of a band key, the band's hash the rest:
# keys of different bands differ by construction, and every key is a positive BIGINT.
_BAND_BITS = 6
_HASH_BITS = 63 - _BAND_BITS
# Shingle columns hashed at once: bounds the temporary matrix for long documents.
_CHUNK = 4096

U32Array = npt.NDArray[np.uint32]
U64Array = npt.NDArray[np.uint64]
I64Array = npt.NDArray[np.int64]


def _parameters(label: bytes, count: int) -> U64Array:
    """``count`` fixed 64-bit parameters drawn from SHAKE-256: the same on every machine."""
    return np.frombuffer(hashlib.shake_256(label).digest(8 * count), dtype="<u8").astype(_U64)


# Permutation h_i(x) = (a_i * x + b_i) mod 2^64 >> 32 (multiply-shift, a_i odd).
_A = (_parameters(b"drawdown minhash a v1", PERMUTATIONS) | _U64(1)).reshape(-1, 1)
_B = _parameters(b"drawdown minhash b v1", PERMUTATIONS).reshape(-1, 1)
_BAND_SEEDS = _parameters(b"drawdown lsh bands v1", BANDS)
_BASE = 0x100000001B3  # odd: invertible modulo 2^64
_BASE_INVERSE = pow(_BASE, -1, 1 << 64)
_SHINGLE_MULTIPLIER = _U64(0x9E3779B97F4A7C15)

assert BANDS * ROWS <= PERMUTATIONS
assert BANDS <= 1 << _BAND_BITS


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A document's MinHash signature (``PERMUTATIONS`` little-endian uint32) and its
    LSH band keys (one per band, distinct across bands). Documents shorter than
    ``MIN_WORDS`` words have neither: they are never near-duplicates."""

    signature: bytes
    bands: tuple[int, ...]


def fingerprint(normalized_text: str) -> Fingerprint:
    """The fingerprint of already-normalized text (``processor.normalize``)."""
    codes = _code_points(normalized_text)
    starts, ends = word_spans(codes)
    if len(starts) < max(MIN_WORDS, SHINGLE_WORDS):
        return Fingerprint(b"", ())
    signature = minhash(_shingles(word_hashes(codes, starts, ends)))
    return Fingerprint(signature.tobytes(), tuple(band_keys(signature).tolist()))


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures: the share of agreeing positions.

    0.0 when either is empty (a document too short to fingerprint) or they differ in size.
    """
    if not a or len(a) != len(b):
        return 0.0
    left = np.frombuffer(a, dtype="<u4")
    right = np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(left == right)) / len(left)


def _mix(x: U64Array) -> U64Array:
    """SplitMix64's finalizer: spreads every input bit over the whole word."""
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


class _Powers:
    """``base^i`` modulo 2^64 for i < n, grown on demand (position weights of word hashes)."""

    def __init__(self, base: int) -> None:
        self._base = base
        self._table: U64Array = np.ones(1, dtype=_U64)

    def __call__(self, n: int) -> U64Array:
        if len(self._table) < n:
            size = max(n, 2 * len(self._table))
            steps = np.full(size, self._base, dtype=_U64)
            steps[0] = 1
            self._table = np.cumprod(steps, dtype=_U64)
        return self._table[:n]


_POWERS = _Powers(_BASE)
_INVERSE_POWERS = _Powers(_BASE_INVERSE)
# Which characters of the Basic Multilingual Plane make words: exactly regex ``\w``
# (letters, digits, underscore), looked up for a whole text at once.
_BMP = 0x10000
_WORD_CHARS = np.fromiter((chr(c).isalnum() for c in range(_BMP)), dtype=bool, count=_BMP)
_WORD_CHARS[ord("_")] = True


def _code_points(text: str) -> U64Array:
    # surrogatepass: a lone surrogate (text decoded with surrogateescape) is one code point too.
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(_U64)


def word_spans(codes: U64Array) -> tuple[I64Array, I64Array]:
    r"""Start and end indexes of the words (runs of ``\w`` characters) in code points."""
    is_word = _WORD_CHARS[np.minimum(codes, _BMP - 1)]
    if (astral := np.flatnonzero(codes >= _BMP)).size:
        is_word[astral] = [chr(int(c)).isalnum() for c in codes[astral]]
    edges = np.diff(is_word.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def word_hashes(codes: U64Array, starts: I64Array, ends: I64Array) -> U64Array:
    """A 64-bit hash per word, computed for all words at once.

    Each word's polynomial hash sum(c_j * B^j) is a difference of prefix sums of
    the text's weighted code points, shifted back by B^-start, so equal words hash
    equal wherever they stand.
    """
    prefix = np.zeros(len(codes) + 1, dtype=_U64)
    np.cumsum(codes * _POWERS(len(codes)), out=prefix[1:])
    sums = (prefix[ends] - prefix[starts]) * _INVERSE_POWERS(len(codes))[starts]
    return _mix(sums + (ends - starts).astype(_U64))


def shingle_hashes(normalized_text: str) -> U64Array:
    """A 64-bit hash per run of ``SHINGLE_WORDS`` consecutive words, order-sensitive
    (empty for texts of fewer words)."""
    codes = _code_points(normalized_text)
    starts, ends = word_spans(codes)
    return _shingles(word_hashes(codes, starts, ends))


def _shingles(words: U64Array) -> U64Array:
    count = max(len(words) - SHINGLE_WORDS + 1, 0)
    combined = words[:count].copy()
    for offset in range(1, SHINGLE_WORDS):
        combined = combined * _SHINGLE_MULTIPLIER + words[offset : offset + count]
    return _mix(combined)


def minhash(shingles: U64Array) -> U32Array:
    """The MinHash signature of a set of shingle hashes: per permutation, the minimum."""
    signature = np.full(PERMUTATIONS, np.iinfo(np.uint32).max, dtype=np.uint32)
    for start in range(0, len(shingles), _CHUNK):
        chunk = shingles[start : start + _CHUNK].reshape(1, -1)
        # In place: one temporary, whose pages the allocator keeps between calls.
        permuted = np.multiply(_A, chunk)
        np.add(permuted, _B, out=permuted)
        np.right_shift(permuted, _U64(32), out=permuted)
        np.minimum(signature, permuted.min(axis=1), out=signature, casting="unsafe")
    return signature


def band_keys(signatures: npt.NDArray[Any]) -> I64Array:
    """The LSH band keys of one signature (shape ``(PERMUTATIONS,)``) or of many
    (``(n, PERMUTATIONS)``): per band, a hash of its ``ROWS`` values seeded by the
    band, with the band's index in the key's top bits."""
    values = np.asarray(signatures, dtype=np.uint32)[..., : BANDS * ROWS].astype(_U64)
    rows = values.reshape(*values.shape[:-1], BANDS, ROWS)
    keys = np.broadcast_to(_BAND_SEEDS, rows.shape[:-1]).copy()
    for row in range(ROWS):
        keys = _mix(keys * _SHINGLE_MULTIPLIER + rows[..., row])
    bands = np.arange(BANDS, dtype=_U64) << _U64(_HASH_BITS)
    return ((keys >> _U64(64 - _HASH_BITS)) | bands).astype(np.int64)


def detection_probability(similarity: float) -> float:
    """The chance that two documents of this Jaccard similarity share at least one band."""
    return 1.0 - (1.0 - similarity**ROWS) ** BANDS
