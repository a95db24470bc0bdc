"""Reading export files as text: CSV (sniffed delimiter and encoding), XLSX and Parquet.

Every reader returns a :class:`RawFile`: the cells as pandas strings (Parquet keeps its typed
columns), plus what was learned about the file (encoding, delimiter, decimal comma) and the
problems met while reading. Input files are only ever opened for reading.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from helpers.ingest.report import MAX_EXAMPLES, mask_value

SUFFIXES: tuple[str, ...] = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet", ".pq")
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
SNIFF_BYTES = 64 * 1024
BLOCK_SIZE = 8 << 20  # large enough for very long cells
MAX_BLOCK_SIZE = 512 << 20
ROW_TEXT_CHARS = 200  # of a skipped row's text, kept only to find its line
FOOTER_BYTES = 16 * 1024  # the end of a file, looked at for a report footer
FOOTER_LINES = 10  # at most this many footer lines


@dataclass
class ReadProblem:
    """Something met while reading a file (a code from the ``ingest`` catalogue)."""

    severity: str
    code: str
    count: int = 1
    examples: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class RawFile:
    """One input file as read: text cells (or typed Parquet columns) and reading facts."""

    path: Path
    frame: pd.DataFrame | None
    kind: str  # csv, xlsx, parquet
    encoding: str | None = None
    delimiter: str | None = None
    decimal_comma: bool = False
    problems: list[ReadProblem] = field(default_factory=list)
    first_row: int = 2  # file row number of the first data row (header is row 1)
    sheet: str | None = None  # the sheet, when a workbook has several

    @property
    def name(self) -> str:
        """The file's name, and the sheet's as ``book.xlsx [Trattative]`` when a workbook has
        several: the name findings show and mapping ``files:`` patterns are matched against."""
        return self.path.name if self.sheet is None else f"{self.path.name} [{self.sheet}]"


def list_input_files(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Readable files under ``paths`` (folders: one level) and the paths that do not exist."""
    files: list[Path] = []
    missing: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(
                sorted(
                    f
                    for f in p.iterdir()
                    if f.is_file() and f.suffix.lower() in SUFFIXES and not f.name.startswith(".")
                )
            )
        elif p.is_file():
            files.append(p)
        else:
            missing.append(p)
    return files, missing


def _detect_encoding(head: bytes) -> tuple[str | None, str | None]:
    """(encoding, problem code) for the first bytes of a text file; None encoding = not text."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", None
    if b"\x00" in head:
        return None, "not_text"
    try:
        head.decode("utf-8-sig")
        return "utf-8", None
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a multi-byte character cut by the sample boundary
            return "utf-8", None
    try:
        head.decode("cp1252")
        return "cp1252", "encoding_fallback"
    except UnicodeDecodeError:
        return "latin-1", "encoding_fallback"


def _sniff_delimiter(text: str) -> str:
    """The delimiter whose field count is largest and most consistent over the first lines."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last sampled line may be cut
    best, best_score = ",", -1.0
    for delim in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delim)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        mode, freq = Counter(counts).most_common(1)[0]
        score = freq / len(counts) * 1000 + min(mode, 999)
        if score > best_score:
            best, best_score = delim, score
    return best


def _looks_decimal_comma(frame: pd.DataFrame, delimiter: str) -> bool:
    """Whether numbers in the file are written ``1.234,56`` (Italian Excel)."""
    if delimiter != ";":
        sample = frame.head(200)
        for col in sample.columns:
            s = sample[col].dropna()
            if len(s) and s.str.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d+").mean() > 0.5:
                return True
        return False
    return True


def read_csv(path: Path) -> RawFile:
    """A delimited text file as strings, with encoding and delimiter detected."""
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    raw = RawFile(path=path, frame=None, kind="csv")
    stripped = head.removeprefix(b"\xef\xbb\xbf").strip()
    if not stripped:
        raw.problems.append(ReadProblem("error", "empty_file"))
        return raw
    encoding, code = _detect_encoding(head)
    if encoding is None:
        raw.problems.append(ReadProblem("error", "not_text"))
        return raw
    raw.encoding = encoding
    text = head.decode("utf-16" if encoding == "utf-16" else encoding, errors="replace")
    raw.delimiter = _sniff_delimiter(text.lstrip("\ufeff"))
    try:
        frame, bad_rows = _read_csv_arrow(path, encoding, raw.delimiter)
        if frame is None and encoding == "utf-8":  # invalid UTF-8 further down the file
            encoding, code = "cp1252", "encoding_fallback"
            raw.encoding = encoding
            frame, bad_rows = _read_csv_arrow(path, encoding, raw.delimiter)
        if frame is None:
            frame, bad_rows = _read_csv_arrow(path, "latin-1", raw.delimiter)
            raw.encoding = "latin-1"
    except CsvUnreadable as exc:
        detail = mask_value(str(exc))  # pyarrow may quote a row: its emails are masked
        raw.problems.append(ReadProblem("error", "csv_parse_error", params={"detail": detail}))
        return raw
    if code == "encoding_fallback":
        raw.problems.append(ReadProblem("info", code, params={"encoding": raw.encoding}))
    bad_rows, footer = _without_footer(path, raw.encoding, raw.delimiter, bad_rows)
    if footer:
        raw.problems.append(ReadProblem("info", "report_footer", count=footer))
    if bad_rows:
        raw.problems.append(
            ReadProblem(
                "warning",
                "ragged_rows",
                count=len(bad_rows),
                # the line only: a row whose fields do not line up with the header cannot be
                # told apart into personal and other values, so none of its text is shown
                examples=[
                    {"row": n, "value": ""}
                    for n in _line_numbers(path, raw.encoding, bad_rows[:MAX_EXAMPLES])
                ],
            )
        )
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    raw.frame = frame
    _unique_columns(raw)
    raw.decimal_comma = _looks_decimal_comma(raw.frame, raw.delimiter)
    return raw


def _line_key(text: str) -> str:
    """A skipped row's text or a line of the file, as the two are compared."""
    return text.lstrip("\ufeff").split("\n")[0].rstrip("\r")[:ROW_TEXT_CHARS]


def _without_footer(
    path: Path, encoding: str, delimiter: str, bad: list[tuple[int | None, str]]
) -> tuple[list[tuple[int | None, str]], int]:
    """The skipped rows that are not a report footer, and how many are.

    A footer is what a CRM report appends after its records (Salesforce: a blank line, then
    "Confidential Information - Do Not Distribute" and "Copyright (c) 2000-2024
    salesforce.com, inc. All rights reserved."): lines of one field each, at most
    ``FOOTER_LINES``, closing the file below a line of several fields (a record or a totals
    row). Only the end of the file is read.
    """
    if not bad:
        return bad, 0
    size = path.stat().st_size
    start = max(0, size - FOOTER_BYTES)
    with path.open("rb") as fh:
        bom = fh.read(2)
        codec = encoding
        if encoding == "utf-16":
            start -= start % 2  # whole two-byte units
            codec = "utf-16" if start == 0 else "utf-16-le" if bom == b"\xff\xfe" else "utf-16-be"
        fh.seek(start)
        lines = fh.read().decode(codec, errors="replace").splitlines()[1 if start else 0 :]
    footer: list[str] = []
    for line in reversed([ln for ln in lines if ln.strip()][-FOOTER_LINES - 1 :]):
        if len(next(csv.reader([line], delimiter=delimiter), [])) > 1:
            break
        footer.append(_line_key(line))
    else:  # no record above those lines within reach: not a footer
        return bad, 0
    wanted = Counter(footer)
    kept = []
    for number, text in bad:
        key = _line_key(text)
        if wanted[key]:
            wanted[key] -= 1
        else:
            kept.append((number, text))
    return kept, len(bad) - len(kept)


def _line_numbers(
    path: Path, encoding: str, rows: list[tuple[int | None, str]]
) -> list[int | None]:
    """The line of each skipped row: pyarrow's own number, else found by reading the file for
    the row's text (pyarrow reading in parallel does not know it)."""
    wanted: dict[str, list[int]] = {}
    for i, (number, text) in enumerate(rows):
        if number is None:
            wanted.setdefault(_line_key(text), []).append(i)
    numbers = [number for number, _ in rows]
    if not wanted:
        return numbers
    decoding = "utf-16" if encoding == "utf-16" else encoding
    with path.open(encoding=decoding, errors="replace", newline="") as fh:
        for line_number, line in enumerate(fh, start=1):
            slots = wanted.get(_line_key(line.rstrip("\r\n")))
            if slots:
                numbers[slots.pop(0)] = line_number
                if not any(wanted.values()):
                    break
    return numbers


class CsvUnreadable(Exception):
    """pyarrow could not parse the file as CSV (the message is pyarrow's, in English)."""


def _read_csv_arrow(
    path: Path, encoding: str, delimiter: str, block_size: int = BLOCK_SIZE
) -> tuple[pd.DataFrame | None, list[tuple[int | None, str]]]:
    """All columns as strings via pyarrow; None when the bytes are not valid in ``encoding``."""
    bad: list[tuple[int | None, str]] = []

    def on_invalid(row: Any) -> str:
        number = row.number + 1 if row.number is not None else None  # header is line 1
        bad.append((number, row.text[:ROW_TEXT_CHARS]))
        return "skip"

    with path.open("rb") as fh:
        header = fh.read(SNIFF_BYTES)
    names = _header_names(header, encoding, delimiter)
    read_opts = pacsv.ReadOptions(
        encoding=encoding,
        block_size=block_size,
        use_threads=True,
    )
    parse_opts = pacsv.ParseOptions(
        delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
    )
    convert_opts = pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        strings_can_be_null=True,
        null_values=[""],
        quoted_strings_can_be_null=True,
    )
    try:
        table = pacsv.read_csv(
            path, read_options=read_opts, parse_options=parse_opts, convert_options=convert_opts
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if "UTF8" in str(exc) or isinstance(exc, UnicodeDecodeError):
            return None, []
        if "straddl" in str(exc) and block_size < MAX_BLOCK_SIZE:  # a row longer than a block
            return _read_csv_arrow(path, encoding, delimiter, block_size * 8)
        raise CsvUnreadable(str(exc).splitlines()[0][:200]) from None
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype(na_value=float("nan"))}.get)
    return frame, bad


def _header_names(head: bytes, encoding: str, delimiter: str) -> list[str]:
    text = head.decode("utf-16" if encoding == "utf-16" else encoding, errors="replace")
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    row = next(csv.reader([first], delimiter=delimiter), [])
    return [c for c in row]


def read_xlsx(path: Path) -> list[RawFile]:
    """Each sheet of a workbook that has columns, cells as strings (dates as ISO text).

    A workbook with one such sheet is one input named like the file; with several, each sheet is
    an input of its own, named ``book.xlsx [Sheet]`` (see :attr:`RawFile.name`), so a workbook
    holding leads and deals in two sheets is read whole."""
    raw = RawFile(path=path, frame=None, kind="xlsx")
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="openpyxl")
    except Exception:  # openpyxl raises many types for a file that is not a workbook
        raw.problems.append(ReadProblem("error", "unreadable_file"))
        return [raw]
    filled = {name: df for name, df in sheets.items() if len(df.columns)}
    if not filled:
        raw.problems.append(ReadProblem("error", "empty_file"))
        return [raw]
    several = len(filled) > 1
    out = []
    for name, cells in filled.items():
        header = header_row(cells)  # a position: 0 is the sheet's row 1
        frame = cells.iloc[header + 1 :].reset_index(drop=True)
        frame.columns = [_header_text(v) for v in cells.iloc[header]]
        sheet = RawFile(path=path, frame=_sheet_text(frame), kind="xlsx", first_row=header + 2)
        sheet.sheet = str(name) if several else None
        if header > 0:  # a title, notes or group headings above the names: skipped
            params = {"row": header + 1}
            sheet.problems.append(ReadProblem("info", "header_below_titles", params=params))
        out.append(sheet)
    return out


HEADER_SEARCH_ROWS = 10  # how far down a sheet its column names are looked for


def header_row(cells: pd.DataFrame) -> int:
    """The position (0 is row 1) of the row holding a sheet's column names.

    Row 1, unless it fills fewer than half the cells of the widest of the first
    ``HEADER_SEARCH_ROWS`` rows (it is blank, a title, a note, or headings merged over groups of
    columns): then the first row that fills at least two cells and 80% of that width.
    """
    head = cells.iloc[:HEADER_SEARCH_ROWS]
    filled = head.map(lambda v: not _blank(v)).sum(axis=1).to_numpy()
    widest = int(filled.max()) if len(filled) else 0
    if widest == 0 or filled[0] * 2 >= widest:
        return 0
    for position, count in enumerate(filled):
        if count >= 2 and count >= 0.8 * widest and _names_only(head.iloc[position]):
            return position
    return 0


def _names_only(row: pd.Series) -> bool:
    """Whether every filled cell of a row could be a column name: text, not a number, a date
    or an email address (a data row below a short first line is not taken for the names)."""
    cells = [v for v in row if not _blank(v)]
    return all(
        isinstance(v, str) and "@" not in v and not NUMBER_OR_DATE.fullmatch(v.strip())
        for v in cells
    )


NUMBER_OR_DATE = re.compile(r"[\d\s.,:/+-]+")


def _blank(value: Any) -> bool:
    return (
        value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""
    )


def _header_text(value: Any) -> str:
    return "" if _blank(value) else _cell_text(value).strip()


def _sheet_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text (dates as ISO text, date cells without a time); repeated or blank
    names are kept as they are, for :func:`_unique_columns` to report and rename."""
    columns = []
    for position in range(frame.shape[1]):
        s = frame.iloc[:, position]
        if pd.api.types.is_datetime64_any_dtype(s):
            text = s.dt.strftime("%Y-%m-%d %H:%M:%S").str.removesuffix(MIDNIGHT)
        else:
            text = s.map(_cell_text, na_action="ignore")
        columns.append(text.astype("str").reset_index(drop=True))
    out = pd.concat(columns, axis=1, ignore_index=True) if columns else pd.DataFrame()
    out.columns = [str(c).strip() for c in frame.columns]
    return out


MIDNIGHT = " 00:00:00"  # the time of an Excel date cell: the cell is a day, not an instant


def _cell_text(value: Any) -> str:
    """A cell as text; a date cell (a date-time at midnight) as ``YYYY-MM-DD``, without a time,
    so it is read as a calendar date whatever the mapping's time zone."""
    if hasattr(value, "isoformat"):
        if not hasattr(value, "hour"):
            return value.isoformat()
        return value.isoformat(sep=" ").removesuffix(MIDNIGHT)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_parquet(path: Path) -> RawFile:
    """A Parquet file with its own column types."""
    raw = RawFile(path=path, frame=None, kind="parquet")
    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowInvalid, OSError):
        raw.problems.append(ReadProblem("error", "unreadable_file"))
        return raw
    frame.columns = [str(c).strip() for c in frame.columns]
    raw.frame = frame.reset_index(drop=True)
    return raw


def read_file(path: Path) -> list[RawFile]:
    """Read one export file, choosing the reader by its suffix: one input, or one per sheet of a
    workbook with several."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raws = read_xlsx(path)
    elif suffix in (".parquet", ".pq"):
        raws = [read_parquet(path)]
    else:
        raws = [read_csv(path)]
    for raw in raws:
        if raw.frame is not None and raw.kind != "csv":
            _unique_columns(raw)
    return raws


def _unique_columns(raw: RawFile) -> None:
    """Repeated or blank header names get a suffix (``name.2``); the first one keeps the name."""
    assert raw.frame is not None
    names = [str(c).strip() for c in raw.frame.columns]
    seen: dict[str, int] = {}
    out, repeated = [], []
    for i, name in enumerate(names):
        base = name or f"column_{i + 1}"
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            repeated.append(base)
            base = f"{base}.{seen[base]}"
        out.append(base)
    if repeated:
        raw.problems.append(
            ReadProblem(
                "warning",
                "duplicate_columns",
                count=len(repeated),
                params={"columns": ", ".join(dict.fromkeys(repeated))},
            )
        )
    raw.frame.columns = out
