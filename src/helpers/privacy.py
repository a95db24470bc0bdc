"""Pseudonymisation of personal columns with a keyed hash (HMAC-SHA256).

The same value gives the same token under the same key, so joins across tables still work, while
the value itself cannot be read back without trying candidates with the key. The key comes from
``SMARKETING_PSEUDONYM_KEY`` or from a generated ``.smarketing-key`` file (mode 0600) in the
working directory; it is never written into any output.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

KEY_ENV = "SMARKETING_PSEUDONYM_KEY"
KEY_FILE = ".smarketing-key"
PREFIX = "anon_"
TOKEN_BYTES = 8  # digest bytes kept in a token (64 bits, 16 hex characters)


def load_key(folder: str | Path | None = None) -> bytes:
    """The pseudonymisation key: the env var, else ``.smarketing-key`` (created if absent)."""
    env = os.environ.get(KEY_ENV)
    if env:
        return env.encode("utf-8")
    path = Path(folder or Path.cwd()) / KEY_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip().encode("utf-8")
    key = secrets.token_hex(32)
    tmp = path.with_name(f"{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    try:
        os.link(tmp, path)  # appears complete or not at all; fails if another process won
    except FileExistsError:
        key = path.read_text(encoding="utf-8").strip()
    finally:
        tmp.unlink()
    return key.encode("utf-8")


def normalise_for_hash(values: pd.Series) -> pd.Series:
    """Trimmed, lower-cased text, so ``Ann@X.com `` and ``ann@x.com`` get the same token."""
    return values.astype("str").str.strip().str.lower()


def hmac_sha256(key: bytes) -> Callable[[bytes], bytes]:
    """HMAC-SHA256 (RFC 2104) with the padded key hashed once: the digest of a message.

    Same result as ``hmac.new(key, msg, "sha256").digest()``, about twice as fast per value,
    because the inner and outer hash states are copied instead of rebuilt for every message.
    """
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def mac(message: bytes) -> bytes:
        i = inner.copy()
        i.update(message)
        o = outer.copy()
        o.update(i.digest())
        return o.digest()

    return mac


_HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _token_array(digests: bytes, count: int) -> pa.Array:
    """``PREFIX`` + hex of each ``TOKEN_BYTES``-byte digest, built as one Arrow string buffer."""
    raw = np.frombuffer(digests, dtype=np.uint8).reshape(count, TOKEN_BYTES)
    width = len(PREFIX) + 2 * TOKEN_BYTES
    text = np.empty((count, width), dtype=np.uint8)
    text[:, : len(PREFIX)] = np.frombuffer(PREFIX.encode("ascii"), dtype=np.uint8)
    text[:, len(PREFIX) :: 2] = _HEX_DIGITS[raw >> 4]
    text[:, len(PREFIX) + 1 :: 2] = _HEX_DIGITS[raw & 0x0F]
    offsets = np.arange(count + 1, dtype=np.int64) * width
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(text)]
    return pa.Array.from_buffers(pa.large_string(), count, buffers)


def tokens(values: pd.Series, key: bytes) -> pd.Series:
    """Keyed-hash tokens for ``values``; blanks stay missing.

    A token is ``PREFIX`` and the first ``TOKEN_BYTES`` bytes of the HMAC-SHA256 of the
    normalised text's UTF-8 bytes, in hex. A column of mostly repeated values (names) is hashed
    once per distinct value; a column of mostly distinct ones (emails) is hashed cell by cell,
    which skips building a hash table as large as the column.
    """
    text = pa.array(normalise_for_hash(values).array, from_pandas=True)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text)
    if _mostly_distinct(text):  # hash every filled cell; each token goes back to its row
        hashed = pc.drop_null(text)
        filled = text.is_valid().to_numpy(zero_copy_only=False)
        indices = pa.array(np.cumsum(filled) - 1, mask=~filled)
    else:
        codes = pc.dictionary_encode(text)
        hashed, indices = codes.dictionary, codes.indices  # each distinct value once
    mac = hmac_sha256(key)
    cells = hashed.cast(pa.large_binary()).to_pylist()  # UTF-8 bytes
    digests = b"".join([mac(cell)[:TOKEN_BYTES] for cell in cells])
    out = _token_array(digests, len(cells)).take(indices)
    return pd.Series(pd.array(out, dtype="str"), index=values.index)


DISTINCT_SAMPLE = 10_000  # leading cells looked at to choose how to hash a column


def _mostly_distinct(text: pa.Array) -> bool:
    """True when over half of the column's first ``DISTINCT_SAMPLE`` filled cells differ."""
    head = pc.drop_null(text.slice(0, DISTINCT_SAMPLE))
    return len(head) > 0 and 2 * len(pc.unique(head)) > len(head)


EMAIL_PATTERN = r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[A-Za-z]{2,}"


def email_cells(values: pd.Series) -> pd.Series:
    """True where a text cell contains an email address."""
    if not pd.api.types.is_string_dtype(values):
        return pd.Series(False, index=values.index)
    from helpers.ingest.safety import regex_mask

    return regex_mask(values, EMAIL_PATTERN, literal="@")  # the literal is a cheap test first


def pseudonymise_stray_emails(df: pd.DataFrame, skip: Iterable[str], key: bytes) -> pd.DataFrame:
    """A copy where every text cell holding an email (outside ``skip``) becomes a token."""
    out = df.copy()
    skip = set(skip)
    for col in out.columns:
        if col in skip:
            continue
        hit = email_cells(out[col])
        if hit.any():
            out[col] = out[col].where(~hit, tokens(out.loc[hit, col], key))
    return out


def pseudonymise(df: pd.DataFrame, columns: Iterable[str], key: bytes) -> pd.DataFrame:
    """A copy of ``df`` with each of ``columns`` (those present) replaced by tokens."""
    out = df.copy()
    for col in columns:
        if col in out.columns:
            out[col] = tokens(out[col], key)
    return out
