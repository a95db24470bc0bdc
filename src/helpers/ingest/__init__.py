"""Ingestion: read a CRM export, map it to the canonical tables, check it and pseudonymise it.

``load_crm`` returns the canonical :class:`helpers.model.CrmData` and a
:class:`ValidationReport`; ``save_canonical`` / ``load_canonical`` move the result between steps.
"""

from helpers.ingest.canonical import load_canonical, save_canonical
from helpers.ingest.load import load_crm
from helpers.ingest.mapping import PRESETS, Mapping, load_mapping
from helpers.ingest.report import Finding, TableSummary, ValidationReport
from helpers.ingest.safety import neutralise_formulas

__all__ = [
    "PRESETS",
    "Finding",
    "Mapping",
    "TableSummary",
    "ValidationReport",
    "load_canonical",
    "load_crm",
    "load_mapping",
    "neutralise_formulas",
    "save_canonical",
]
