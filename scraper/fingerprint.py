"""Content fingerprints: a 64-bit SimHash that survives a changed byline or footer."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable

import numpy as np

WORD = re.compile(r"\w+", re.UNICODE)
SHINGLE = 3
# Bits that may differ between two copies of one text. Unrelated texts differ in about 32
# of 64 bits (binomial, sd 4), so 10 leaves a false match at odds of about 1 in 10^7 while
# a copy with a new dateline, byline or credit line stays within a few bits.
NEAR_DUPLICATE_BITS = 10
_MASK = (1 << 64) - 1


def _to_signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def simhash(text: str) -> int | None:
    """Return the signed 64-bit SimHash of text's word 3-shingles, or None if too short."""
    words = [word.lower() for word in WORD.findall(text)]
    if len(words) < SHINGLE * 4:
        return None
    shingles = Counter(" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))
    digests = b"".join(hashlib.blake2b(s.encode(), digest_size=8).digest() for s in shingles)
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8)).reshape(len(shingles), 64)
    counts = np.fromiter(shingles.values(), dtype=np.int64, count=len(shingles))
    weights = counts @ (bits.astype(np.int64) * 2 - 1)
    value = int.from_bytes(np.packbits(weights > 0).tobytes(), "big")
    return _to_signed(value)


def hamming(a: int, b: int) -> int:
    """Return how many of the 64 bits differ between two fingerprints."""
    return ((a ^ b) & _MASK).bit_count()


class FingerprintIndex:
    """Find a near-identical stored text among recent fingerprints, in one vector pass."""

    def __init__(self, items: Iterable[tuple[str, int]] = ()) -> None:
        self._ids: list[str] = []
        self._values: list[int] = []
        self._array: np.ndarray | None = None
        for article_id, value in items:
            self.add(article_id, value)

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, article_id: str, value: int) -> None:
        self._ids.append(article_id)
        self._values.append(value & _MASK)
        self._array = None

    def nearest(self, value: int, max_bits: int = NEAR_DUPLICATE_BITS) -> str | None:
        """Return the id of the closest fingerprint within max_bits, or None."""
        if not self._ids:
            return None
        if self._array is None:
            self._array = np.array(self._values, dtype=np.uint64)
        distances = np.bitwise_count(self._array ^ np.uint64(value & _MASK))
        best = int(distances.argmin())
        return self._ids[best] if int(distances[best]) <= max_bits else None
