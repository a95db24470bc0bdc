"""Pseudonymisation of personal columns with a keyed hash (SipHash-2-4).

The same value gives the same token under the same key, so joins across tables still work, while
the value itself cannot be read back without trying candidates with the key. The key comes from
``SMARKETING_PSEUDONYM_KEY`` or from a generated ``.smarketing-key`` file (mode 0600) in the
working directory; it is never written into any output.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
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
TOKEN_BYTES = 8  # bytes of a token's hash (64 bits, 16 hex characters)


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


def siphash_key(key: bytes) -> str:
    """The 16-character SipHash key derived from ``key``: 112 bits of its SHA-256 digest.

    pandas takes the key as text that must encode to 16 UTF-8 bytes, so each byte keeps its low
    seven bits (one ASCII character each).
    """
    return bytes(b & 0x7F for b in hashlib.sha256(key).digest()[:16]).decode("ascii")


_HEX_PAIRS = np.array([f"{i:02x}".encode("ascii") for i in range(256)]).view(np.uint16)


def _token_array(digests: np.ndarray) -> pa.Array:
    """``PREFIX`` + 16 hex digits of each 64-bit hash, built as one Arrow string buffer."""
    count = len(digests)
    raw = digests.astype(">u8").view(np.uint8).reshape(count, TOKEN_BYTES)
    width = len(PREFIX) + 2 * TOKEN_BYTES
    text = np.empty((count, width), dtype=np.uint8)
    text[:, : len(PREFIX)] = np.frombuffer(PREFIX.encode("ascii"), dtype=np.uint8)
    text[:, len(PREFIX) :] = _HEX_PAIRS[raw].view(np.uint8)
    offsets = np.arange(count + 1, dtype=np.int64) * width
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(text)]
    return pa.Array.from_buffers(pa.large_string(), count, buffers)


def tokens(values: pd.Series, key: bytes) -> pd.Series:
    """Keyed-hash tokens for ``values``; blanks stay missing.

    A token is ``PREFIX`` and 16 hex digits: the keyed SipHash-2-4 of the normalised text's
    UTF-8 bytes under ``siphash_key(key)``, computed by ``pandas.util.hash_array`` (which then
    applies a fixed bijective bit mix). SipHash is a pseudorandom function built for short inputs
    under a secret key, so a token cannot be traced back to its value without the key, and it
    runs in C: about ten times faster than HMAC-SHA256 called from Python once per cell. A column
    of mostly repeated values (names) is hashed once per distinct value.
    """
    text = pa.array(normalise_for_hash(values).array, from_pandas=True)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    filled = pc.fill_null(pc.greater(pc.binary_length(text), 0), False)
    all_filled = pc.all(filled).as_py() is not False
    cells = (text if all_filled else text.filter(filled)).to_numpy(zero_copy_only=False)
    digests = pd.util.hash_array(
        cells, encoding="utf8", hash_key=siphash_key(key), categorize=not _mostly_distinct(text)
    )
    out = _token_array(digests)
    if not all_filled:  # each token back to its row; blank rows stay missing
        mask = ~filled.to_numpy(zero_copy_only=False)
        out = out.take(pa.array(np.cumsum(~mask) - 1, mask=mask))
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


def _replace_cells(
    df: pd.DataFrame,
    skip: Iterable[str],
    found: Callable[[pd.Series], pd.Series],
    replaced: Callable[[pd.Series], pd.Series],
) -> pd.DataFrame:
    """A copy where, in every column outside ``skip``, the cells ``found`` marks are
    ``replaced`` (called on those cells only)."""
    out = df.copy(deep=False)  # copy-on-write: setting a column leaves ``df`` as it was
    skip = set(skip)
    for col in out.columns:
        if col in skip:
            continue
        hit = found(out[col])
        if hit.any():
            out[col] = out[col].where(~hit, replaced(out.loc[hit, col]))
    return out


def pseudonymise_stray_emails(df: pd.DataFrame, skip: Iterable[str], key: bytes) -> pd.DataFrame:
    """A copy where every text cell holding an email (outside ``skip``) becomes a token."""
    return _replace_cells(df, skip, email_cells, lambda cells: tokens(cells, key))


# A phone number in text: 9 to 15 digits, an optional leading +, groups apart by one space, dot
# or dash (or a bracketed area code). Not part of a word, a time (10:30), a path or a longer
# number; not a date (12.03.2024 10.30, 2024-03-12), an amount with thousands groups
# (1.234.567.890, 1 234 567 890), a decimal number (1234567.89) or a US ZIP+4 code (12345-6789).
PHONE_DIGITS = 9  # the fewest digits a phone number has
_PHONE = r"\+?\(?\d(?:(?:[ .\-]| ?[()] ?)?\d){8,14}"
_BEFORE = r"\w:/+#"  # a phone number does not follow these
_AFTER = r"(?![\w:/]|[.,\-]\d)"
_WHOLE = r"(?![\w:/]|[ .,\-]\d)"  # the number ends here (no further group)
_NOT_PHONE = (
    r"\d{1,2}[.\-]\d{1,2}[.\-]\d{2,4}(?!\d)"
    r"|\d{4}[.\-]\d{1,2}[.\-]\d{1,2}(?!\d)"
    rf"|\d{{1,3}}(?:\.\d{{3}})+(?:,\d+)?{_WHOLE}"
    rf"|\d{{1,3}}(?: \d{{3}})+(?:[.,]\d+)?{_WHOLE}"
    rf"|\d+\.\d+{_WHOLE}"
    rf"|\d{{5}}-\d{{4}}{_WHOLE}"
)
PHONE_RE = re.compile(
    rf"(?<![{_BEFORE}])(?<!\d[.,\-])(?!\(?(?:{_NOT_PHONE})){_PHONE}{_AFTER}", re.ASCII
)
# the cells that may hold one, for Arrow's RE2 (no look-around): a first, cheaper pass
PHONE_HINT = rf"(?:^|[^{_BEFORE}]){_PHONE}(?:$|[^\w:/])"


def _id_alone(found: re.Match[str], text: str) -> bool:
    """Digits alone in a cell, without + or separators: an id or a code, not a phone number."""
    return found.group().isdigit() and found.group() == text.strip()


def phones_in(text: str) -> list[str]:
    """The phone numbers written in ``text``."""
    return [m.group() for m in PHONE_RE.finditer(text) if not _id_alone(m, text)]


def replace_phones(text: str, repl: Callable[[str], str]) -> str:
    """``text`` with each phone number in it replaced by ``repl(number)``."""
    return PHONE_RE.sub(lambda m: m.group() if _id_alone(m, text) else repl(m.group()), text)


def phone_cells(values: pd.Series) -> pd.Series:
    """True where a text cell contains a phone number."""
    hit = pd.Series(False, index=values.index)
    if not pd.api.types.is_string_dtype(values):
        return hit
    from helpers.ingest.safety import arrow_text, digit_counts, regex_mask

    # three passes, each on what the previous one left: cells with enough digits (a count over
    # the bytes, which most columns fail entirely), the RE2 pattern, the exact test
    enough = digit_counts(arrow_text(values)) >= PHONE_DIGITS
    if enough.any():
        maybe = regex_mask(values[enough], PHONE_HINT)
        if maybe.any():
            maybe[maybe] = [bool(phones_in(text)) for text in values[enough][maybe]]
            hit[enough] = maybe.to_numpy()
    return hit


def pseudonymise_stray_phones(df: pd.DataFrame, skip: Iterable[str], key: bytes) -> pd.DataFrame:
    """A copy where every phone number in a text cell (outside ``skip``) becomes a token, the
    one the same number gets in a phone column; the rest of the cell is kept."""

    def tokenised(cells: pd.Series) -> pd.Series:
        found = list(dict.fromkeys(p for text in cells for p in phones_in(text)))
        token = dict(zip(found, tokens(pd.Series(found, dtype="str"), key), strict=True))
        return cells.map(functools.partial(replace_phones, repl=token.__getitem__))

    return _replace_cells(df, skip, phone_cells, tokenised)


def pseudonymise(df: pd.DataFrame, columns: Iterable[str], key: bytes) -> pd.DataFrame:
    """A copy of ``df`` with each of ``columns`` (those present) replaced by tokens."""
    out = df.copy(deep=False)  # copy-on-write: setting a column leaves ``df`` as it was
    for col in columns:
        if col in out.columns:
            out[col] = tokens(out[col], key)
    return out
