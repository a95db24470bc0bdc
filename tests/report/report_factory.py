"""Throwaway notebooks and client configs for the runner's tests (independent of the analytics)."""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
import yaml

COMMON_PARAMS = """\
client: str = "Demo"  # the client's name
lang: str = "en"  # report language
mapping: str | None = None  # export format
period_start: str | None = None  # ISO date
period_end: str | None = None  # ISO date
data_dir: str = "../data/samples"  # the export, when no canonical data is given
canonical_dir: str | None = None  # canonical Parquet written by the runner
run_dir: str = "../runs/notebook"  # where results and figures go
"""

TINY_BODY = """\
from IPython.display import Image, display
import matplotlib.pyplot as plt

from helpers.ingest import load_canonical
from helpers.plotting import save_figure
from helpers.results import write_results

crm = load_canonical(canonical_dir)
n_leads = len(crm.leads)
secret_marker_in_code = "this line is code and must not reach the report"
fig, ax = plt.subplots()
ax.bar(["leads"], [n_leads])
png = save_figure(fig, f"{run_dir}/figures/{NAME}_count.png")
display(Image(filename=str(png)))
print(f"Leads read: {n_leads}")
write_results(run_dir, "{NAME}", {
    "leads": n_leads,
    "key_numbers": {"leads": {"label": "Leads", "value": str(n_leads)}},
    "gaps": [{"score": {SCORE}, "text": "Gap from {NAME}"}],
})
"""


def make_notebook(path: Path, params: str, *cells: str, title: str = "# A tiny report") -> Path:
    """Write a notebook: a markdown title, a ``parameters`` cell, then code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    param_cell = nbformat.v4.new_code_cell(params)
    param_cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(title), param_cell]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def tiny_notebook(folder: Path, name: str, score: float = 0.5) -> Path:
    body = TINY_BODY.replace("{NAME}", name).replace("{SCORE}", str(score))
    return make_notebook(folder / f"{name}.ipynb", COMMON_PARAMS, body)


LEADS_CSV = """\
lead_id,created_at,source,channel,region
L1,2024-01-05T10:00:00Z,organic_search,inbound,north
L2,2024-01-06T11:30:00Z,event,outbound,south
L3,2024-02-01T09:15:00Z,referral,relational,north
"""


def write_client(tmp: Path, name: str, notebooks_dir: Path, **extra) -> Path:
    """A client folder with a tiny kit-format export and a config pointing at it."""
    folder = tmp / name
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "data" / "leads.csv").write_text(LEADS_CSV, encoding="utf-8")
    config = {
        "client": name,
        "data": "data",
        "mapping": "kit",
        "period": {"start": "2024-01-01", "end": "2024-12-31"},
        "notebooks_dir": str(notebooks_dir),
        **extra,
    }
    path = folder / "client.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def report_args(config: Path | None, out: Path | None, **kw) -> argparse.Namespace:
    values = {
        "config": str(config) if config else None,
        "data": None,
        "mapping": None,
        "out": str(out) if out else None,
        "lang": None,
        "only": None,
        "jobs": 2,
    }
    values.update(kw)
    return argparse.Namespace(**values)
