"""An independent, pure-Python statement of how a pseudonymisation token is made.

SipHash-2-4 as specified by Aumasson and Bernstein (2012), followed by the 64-bit bit mix pandas
applies to every hash, written out here so the tests notice if either side ever changes.
"""

from __future__ import annotations

import hashlib
import struct

MASK = (1 << 64) - 1


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & MASK


def siphash24(key: bytes, message: bytes) -> int:
    """SipHash-2-4 of ``message`` under a 16-byte ``key``."""
    k0, k1 = struct.unpack("<QQ", key)
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261]
    v.append(k1 ^ 0x7465646279746573)

    def rounds(n: int) -> None:
        for _ in range(n):
            v[0] = (v[0] + v[1]) & MASK
            v[1] = _rotl(v[1], 13) ^ v[0]
            v[0] = _rotl(v[0], 32)
            v[2] = (v[2] + v[3]) & MASK
            v[3] = _rotl(v[3], 16) ^ v[2]
            v[0] = (v[0] + v[3]) & MASK
            v[3] = _rotl(v[3], 21) ^ v[0]
            v[2] = (v[2] + v[1]) & MASK
            v[1] = _rotl(v[1], 17) ^ v[2]
            v[2] = _rotl(v[2], 32)

    tail = len(message) % 8
    padded = message[: len(message) - tail]
    last = message[len(message) - tail :] + bytes(7 - tail) + bytes([len(message) & 0xFF])
    for (m,) in struct.iter_unpack("<Q", padded + last):
        v[3] ^= m
        rounds(2)
        v[0] ^= m
    v[2] ^= 0xFF
    rounds(4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def bit_mix(x: int) -> int:
    """The fixed bijective mix pandas applies after hashing (the splitmix64 finaliser)."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def token(key: bytes, text: str) -> str:
    """The token of already-normalised ``text`` under the user's ``key``."""
    sip_key = bytes(b & 0x7F for b in hashlib.sha256(key).digest()[:16])
    return f"anon_{bit_mix(siphash24(sip_key, text.encode('utf-8'))):016x}"
