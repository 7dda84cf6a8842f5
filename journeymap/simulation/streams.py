"""Random streams: one :class:`random.Random` per source of randomness and replication.

Every source of randomness in a replication has its own stream: ``arrivals``,
``duration:<step>``, ``branch:<step>`` and ``delay:<from>-><to>``. The stream of
``purpose`` in replication ``index`` is seeded by
``numpy.random.SeedSequence(seed, spawn_key=(index, key))``, where ``key`` is a
stable hash of the purpose (:func:`stream` is the definition). So

* replications are independent and do not depend on how many there are or on
  the number of workers;
* two designs simulated with the same seed draw the same arrivals and the same
  durations for the steps they share, even when steps are added, removed or
  changed elsewhere (common random numbers), which is what makes a before/after
  comparison sharp.

A replication of a large journey needs thousands of streams. :func:`streams`
seeds many at once: it runs SeedSequence's mixing (``numpy/random/bit_generator.pyx``)
on arrays, one lane per purpose, which gives the same seeds as :func:`stream`
(a test checks it on random seeds, indices and purposes) at a fraction of the
cost of one SeedSequence per stream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from random import Random

import numpy as np

__all__ = ["purpose_key", "stream", "streams"]


@lru_cache(maxsize=1 << 16)
def purpose_key(purpose: str) -> int:
    """The stable 32-bit hash of a stream's purpose (the last word of its spawn key)."""
    return int.from_bytes(hashlib.blake2b(purpose.encode("utf-8"), digest_size=4).digest(), "little")


def stream(seed: int, index: int, purpose: str) -> Random:
    """The random stream of one ``purpose`` in replication ``index`` (see the module docstring)."""
    words = np.random.SeedSequence(seed, spawn_key=(index, purpose_key(purpose))).generate_state(4, dtype=np.uint32)
    return Random(int.from_bytes(words.astype("<u4").tobytes(), "little"))


# SeedSequence's constants (numpy/random/bit_generator.pyx); 4 words of pool, 32-bit arithmetic.
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_XSHIFT = 16
_POOL = 4
_MASK = 0xFFFFFFFF


def _words(n: int) -> list[int]:
    """``n`` as SeedSequence reads an integer: 32-bit words, least significant first; [0] for 0."""
    if n < 0:
        raise ValueError(f"seeds and replication indices must be non-negative, got {n}")
    out = [n & _MASK]
    n >>= 32
    while n:
        out.append(n & _MASK)
        n >>= 32
    return out


def _hashmix(value: np.ndarray, const: int) -> tuple[np.ndarray, int]:
    mixed: np.ndarray = (value ^ np.uint32(const)) * np.uint32(const * _MULT_A & _MASK)
    return mixed ^ (mixed >> _XSHIFT), const * _MULT_A & _MASK


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    result: np.ndarray = np.uint32(_MIX_MULT_L) * x - np.uint32(_MIX_MULT_R) * y
    return result ^ (result >> _XSHIFT)


def _seed_words(seed: int, index: int, keys: np.ndarray) -> list[np.ndarray]:
    """The 4 state words SeedSequence(seed, spawn_key=(index, key)) generates, for every key at once."""
    run = _words(seed)
    run += [0] * (_POOL - len(run))  # a spawn key pads the run entropy to the pool size
    columns = [np.full(len(keys), w, dtype=np.uint32) for w in run + _words(index)]
    columns.append(keys.astype(np.uint32))
    const = _INIT_A
    pool = []
    for column in columns[:_POOL]:
        mixed, const = _hashmix(column, const)
        pool.append(mixed)
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                hashed, const = _hashmix(pool[src], const)
                pool[dst] = _mix(pool[dst], hashed)
    for column in columns[_POOL:]:
        for dst in range(_POOL):
            hashed, const = _hashmix(column, const)
            pool[dst] = _mix(pool[dst], hashed)
    const = _INIT_B
    out = []
    for word in pool:  # generate_state(4): one output word per pool word
        const_next = const * _MULT_B & _MASK
        value: np.ndarray = (word ^ np.uint32(const)) * np.uint32(const_next)
        out.append(value ^ (value >> _XSHIFT))
        const = const_next
    return out


def streams(seed: int, index: int, purposes: Sequence[str]) -> list[Random]:
    """``[stream(seed, index, p) for p in purposes]``, seeded in one pass over arrays."""
    if not purposes:
        return []
    keys = np.fromiter((purpose_key(p) for p in purposes), dtype=np.uint64, count=len(purposes))
    w0, w1, w2, w3 = (w.tolist() for w in _seed_words(seed, index, keys))
    return [Random(a | b << 32 | c << 64 | d << 96) for a, b, c, d in zip(w0, w1, w2, w3, strict=True)]
