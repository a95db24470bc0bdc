"""Writes the corpus of broken inputs under ``tests/ingest/broken/`` (one folder per case).

Run ``python tests/ingest/make_broken.py`` after changing a case; a test checks the committed
files match. ``CASES`` also says what ``smarketing validate`` must answer for each one.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent / "broken"
LEADS = "lead_id,created_at,source,email,first_name\n"
ROWS = "".join(
    f"L{i},2024-0{1 + i % 9}-1{i % 10} 10:00:00,organic_search,p{i}@example.com,Anna\n"
    for i in range(1, 9)
)
STAGES = "lead_id,stage,entered_at\n" + "".join(
    f"L{i},lead,2024-0{1 + i % 9}-1{i % 10} 10:00:00\n" for i in range(1, 9)
)


@dataclass(frozen=True)
class Case:
    files: dict[str, Callable[[], bytes] | bytes | str]  # name -> content
    code: str  # a finding code, or a catalogue key for a KitError
    exit: int
    mapping: str | None = None
    generated: bool = False  # written at test time only (too big to commit)


def _xlsx(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_excel(buf, index=False)
    return buf.getvalue()


def _xlsx_empty() -> bytes:
    from openpyxl import Workbook

    buf = io.BytesIO()
    Workbook().save(buf)
    return buf.getvalue()


def _huge() -> str:
    return LEADS + ROWS + 'L99,2024-01-01,"' + "x" * 1_048_576 + '",a@b.it,Anna\n'


MAPPING_BAD_STAGE = """name: bad-stage
stage_model: default
stages:
  Qualified Lead: qualified_lead_stage
sources:
  - table: leads
    files: ["leads.*"]
"""

CASES: dict[str, Case] = {
    "missing_required_column": Case(
        {"leads.csv": "lead_id,source\nL1,x\nL2,y\n"}, "missing_column", 2
    ),
    "empty_file": Case({"leads.csv": b""}, "empty_file", 2),
    "bom_only": Case({"leads.csv": b"\xef\xbb\xbf"}, "empty_file", 2),
    "header_only": Case({"leads.csv": LEADS}, "header_only", 2),
    "duplicate_ids": Case(
        {"leads.csv": LEADS + ROWS + ROWS.splitlines(True)[0].replace("Anna", "Bea")},
        "duplicate_ids",
        0,
    ),
    "duplicate_rows": Case(
        {"leads.csv": LEADS + ROWS + ROWS.splitlines(True)[2]}, "duplicate_rows", 0
    ),
    "unparseable_dates": Case(
        {
            "leads.csv": LEADS
            + "".join(f"L{i},sometime in spring,x,p{i}@example.com,Anna\n" for i in range(5))
            + ROWS
        },
        "unparseable_dates",
        2,
    ),
    "mixed_date_formats": Case(
        {"leads.csv": LEADS + ROWS + "L20,25/03/2024,x,q@example.com,A\n"}, "mixed_date_formats", 0
    ),
    "ambiguous_date_order": Case(
        {"leads.csv": "lead_id,created_at\nL1,01/02/2024\nL2,03/04/2024\n"},
        "ambiguous_date_order",
        0,
    ),
    "negative_amounts": Case(
        {
            "leads.csv": LEADS + ROWS,
            "opportunities.csv": "opportunity_id,lead_id,amount,created_at,outcome\n"
            "D1,L1,-500,2024-05-01,won\nD2,L2,1200,2024-05-02,lost\n",
        },
        "negative_values",
        0,
    ),
    "currency_symbols": Case(
        {
            "leads.csv": LEADS + ROWS,
            "opportunities.csv": "opportunity_id,lead_id,amount,created_at,outcome\n"
            "D1,L1,€ 500,2024-05-01,won\nD2,L2,$1200,2024-05-02,lost\n",
        },
        "currency_symbols",
        0,
    ),
    "outcome_not_in_value_map": Case(
        {
            "leads.csv": LEADS + ROWS,
            "opportunities.csv": "opportunity_id,lead_id,amount,created_at,outcome\n"
            "D1,L1,500,2024-05-01,maybe\nD2,L2,1200,2024-05-02,lost\n",
        },
        "unknown_values",
        0,
    ),
    "closed_before_created": Case(
        {
            "leads.csv": LEADS + ROWS,
            "opportunities.csv": "opportunity_id,lead_id,amount,created_at,closed_at,outcome\n"
            "D1,L1,500,2024-05-01,2024-04-01,won\n",
        },
        "closed_before_created",
        0,
    ),
    "stages_out_of_order": Case(
        {
            "leads.csv": LEADS + ROWS,
            "stage_history.csv": STAGES + "L1,sql,2024-02-12 10:00:00\nL1,mql,2024-03-01\n",
        },
        "stages_out_of_order",
        0,
    ),
    "unknown_stage": Case(
        {
            "leads.csv": LEADS + ROWS,
            "stage_history.csv": STAGES + "L1,Qualified Lead,2024-03-01\n",
        },
        "unknown_stage",
        0,
    ),
    "won_before_created": Case(
        {
            "leads.csv": LEADS + ROWS,
            "stage_history.csv": STAGES + "L1,won,2023-01-01\n",
        },
        "won_before_created",
        0,
    ),
    "orphan_stage_rows": Case(
        {
            "leads.csv": LEADS + ROWS,
            "stage_history.csv": STAGES + "NOPE,mql,2024-03-01\n",
        },
        "orphan_rows",
        0,
    ),
    "future_dates": Case(
        {"leads.csv": LEADS + ROWS + "L30,2099-01-01,x,z@example.com,A\n"}, "future_dates", 0
    ),
    "blank_lead_ids": Case(
        {"leads.csv": LEADS + ROWS + ",2024-01-01,x,y@example.com,A\n"}, "blank_required", 0
    ),
    "all_lead_ids_blank": Case(
        {"leads.csv": "lead_id,created_at\n,2024-01-01\n,2024-01-02\n"}, "all_blank", 2
    ),
    "wrong_encoding": Case(
        {"leads.csv": (LEADS + ROWS.replace("Anna", "Niccolò")).encode("cp1252")},
        "encoding_fallback",
        0,
    ),
    "ragged_rows": Case(
        {"leads.csv": LEADS + ROWS + "L40,2024-01-01,x\nL41,2024-01-01,a,b,c,d,e\n"},
        "ragged_rows",
        0,
    ),
    "formula_cells": Case(
        {
            "leads.csv": LEADS
            + ROWS
            + "".join(
                f'L{50 + i},2024-01-01,"{v}",f{i}@example.com,Anna\n'
                for i, v in enumerate(
                    [
                        '=HYPERLINK(""http://evil"",""x"")',
                        "+1+cmd|' /C calc'!A0",
                        "-2+3",
                        "@SUM(A1:A2)",
                    ]
                )
            )
        },
        "formula_like",
        0,
    ),
    "script_in_names": Case(
        {
            "leads.csv": LEADS + ROWS + "L60,2024-01-01,<script>alert(1)</script>,"
            "s@example.com,<b>Anna</b>\n"
        },
        "markup_in_text",
        0,
    ),
    "unparseable_numbers": Case(
        {"leads.csv": "lead_id,created_at,company_size\nL1,2024-01-01,lots\nL2,2024-01-02,120\n"},
        "unparseable_numbers",
        0,
    ),
    "invalid_channel": Case(
        {
            "leads.csv": "lead_id,created_at,channel\nL1,2024-01-01,telepathy\n"
            "L2,2024-01-02,inbound\n"
        },
        "unknown_values",
        0,
    ),
    "survey_score_out_of_range": Case(
        {
            "leads.csv": LEADS + ROWS,
            "survey.csv": "respondent_id,team,wave,item_id,score\nr1,sales,before,q1,7\n"
            "r1,sales,before,q2,3\nr2,vendite,before,q1,4\n",
        },
        "score_out_of_range",
        0,
    ),
    "no_recognisable_file": Case({"notes.csv": "foo,bar\n1,2\n"}, "no_leads", 2),
    "binary_garbage": Case({"leads.csv": bytes(range(256)) * 4}, "not_text", 2),
    "xlsx_header_only": Case(
        {"leads.xlsx": lambda: _xlsx(pd.DataFrame(columns=["lead_id", "created_at"]))},
        "header_only",
        2,
    ),
    "xlsx_empty_workbook": Case({"leads.xlsx": _xlsx_empty}, "empty_file", 2),
    "not_a_workbook": Case({"leads.xlsx": b"PK\x03\x04 this is not a zip"}, "unreadable_file", 2),
    "corrupt_parquet": Case({"leads.parquet": b"PAR1 garbage PAR1"}, "unreadable_file", 2),
    "empty_folder": Case({}, "no_files", 2),
    "unknown_mapping_name": Case(
        {"leads.csv": LEADS + ROWS}, "ingest.mapping_not_found", 2, mapping="zoho"
    ),
    "broken_mapping_yaml": Case(
        {"leads.csv": LEADS + ROWS, "mapping.yaml": "sources: [\n  - a: b"},
        "ingest.mapping_yaml",
        2,
        mapping="mapping.yaml",
    ),
    "mapping_without_sources": Case(
        {"leads.csv": LEADS + ROWS, "mapping.yaml": "name: x\n"},
        "ingest.mapping_invalid",
        2,
        mapping="mapping.yaml",
    ),
    "mapping_stage_not_in_model": Case(
        {"leads.csv": LEADS + ROWS, "mapping.yaml": MAPPING_BAD_STAGE},
        "ingest.mapping_invalid",
        2,
        mapping="mapping.yaml",
    ),
    "olist_deals_without_mqls": Case(
        {"olist_closed_deals_dataset.csv": "mql_id,won_date\nabc,2018-01-01\n"},
        "no_leads",
        2,
        mapping="olist",
    ),
    "duplicate_column_names": Case(
        {"leads.csv": "lead_id,lead_id,created_at\nL1,L2,2024-01-01\n"}, "duplicate_columns", 0
    ),
    "unclosed_quote": Case(
        {"leads.csv": 'lead_id,created_at,company\nL1,2024-01-01,"Acme\nL2,2024-01-02,Beta\n'},
        "multiline_cells",
        0,
    ),
    "huge_cell": Case({"leads.csv": _huge}, "huge_cell", 0, generated=True),
}


def content(value: Callable[[], bytes | str] | bytes | str) -> bytes:
    value = value() if callable(value) else value
    return value.encode("utf-8") if isinstance(value, str) else value


def write_case(name: str, folder: Path, keep_workbooks: bool = False) -> Path:
    """Write one case into ``folder/name`` and return that folder.

    ``keep_workbooks``: leave an existing generated .xlsx alone (it differs only by its creation
    time), so regenerating the corpus does not churn binary files.
    """
    target = folder / name
    target.mkdir(parents=True, exist_ok=True)
    for fname, value in CASES[name].files.items():
        path = target / fname
        if keep_workbooks and callable(value) and fname.endswith(".xlsx") and path.exists():
            continue
        path.write_bytes(content(value))
    return target


def main(folder: Path = HERE) -> None:
    for name, case in CASES.items():
        if not case.generated:
            write_case(name, folder, keep_workbooks=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
