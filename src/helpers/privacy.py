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

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

KEY_ENV = "SMARKETING_PSEUDONYM_KEY"
KEY_FILE = ".smarketing-key"
PREFIX = "anon_"
TOKEN_CHARS = 16  # hex characters kept from the digest (64 bits)


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


def hmac_sha256(key: bytes) -> Callable[[bytes], str]:
    """HMAC-SHA256 (RFC 2104) with the padded key hashed once: hex digest of a message.

    Same result as ``hmac.new(key, msg, "sha256").hexdigest()``, about twice as fast per value,
    because the inner and outer hash states are copied instead of rebuilt for every message.
    """
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def mac(message: bytes) -> str:
        i = inner.copy()
        i.update(message)
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()

    return mac


def tokens(values: pd.Series, key: bytes) -> pd.Series:
    """Keyed-hash tokens for ``values``; blanks stay missing. Each distinct value is hashed once."""
    text = pa.array(normalise_for_hash(values).array, from_pandas=True)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    codes = pc.dictionary_encode(pc.if_else(pc.equal(text, ""), pa.scalar(None, text.type), text))
    mac = hmac_sha256(key)
    digests = pa.array(
        [
            PREFIX + mac(u)[:TOKEN_CHARS]
            for u in codes.dictionary.cast(pa.large_binary()).to_pylist()  # UTF-8 bytes
        ],
        type=pa.large_string(),
    )
    return pd.Series(pd.array(digests.take(codes.indices), dtype="str"), index=values.index)


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
