"""Benchmark: the kit's analyses from 10k to 5M leads against DuckDB SQL and plain pandas.

    .venv/bin/python bench/run_bench.py [--sizes 10000 100000 1000000 5000000] [--quick]

Every measurement runs in a fresh subprocess (peak memory is that process's ``ru_maxrss``:
the data it loaded plus the analysis) and is repeated ``--repeats`` times inside it; the best
time counts. The three implementations of an analysis must give the same numbers
(``bench.impls.compare``) or the row is marked as a mismatch and its times are not published.
Generated data are cached under ``bench/.cache/`` (gitignored). Results go to
``bench/results/latest.{md,json,png}``; see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import pickle
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
RESULTS = HERE / "results"
SAMPLE_CONFIG = ROOT / "data" / "samples" / "client.yaml"
SEED = 2024
KEY = b"benchmark-key-not-a-secret"
DEFAULT_SIZES = (10_000, 100_000, 1_000_000, 5_000_000)
NAIVE_LIMIT = 1_000_000  # the plain pandas version is not run above this size
TIMESTAMPS = {
    "leads": "created_at",
    "stage_history": "entered_at",
    "opportunities": "created_at",
    "activities": "at",
}
INGEST_FILES = tuple(TIMESTAMPS)
ANALYSIS_ORDER = [
    "ingest_csv",
    "ingest_parquet",
    "cohort_conversion",
    "time_to_convert",
    "sla_compliance",
    "persona_scorecard",
]


# --------------------------------------------------------------------------------------------
# worker side (runs in a fresh subprocess)
# --------------------------------------------------------------------------------------------


def _rss_mb() -> float:
    """Current resident memory of this process, in MB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _subsample(crm: Any, leads: int) -> Any:
    """The same company restricted to ``leads`` leads drawn at random (fixed seed)."""
    from helpers.model import CrmData

    keep = crm.leads["lead_id"].sample(n=leads, random_state=SEED)
    tables = {
        name: df[df["lead_id"].isin(keep)].reset_index(drop=True)
        for name, df in crm.tables().items()
        if "lead_id" in df
    }
    return CrmData(**tables, stage_model=crm.stage_model)


def _ingest_summary(tables: dict[str, Any]) -> Any:
    """Rows and the sum of the main timestamp (epoch seconds) per table, as a comparable frame."""
    import pandas as pd

    rows = []
    for name in INGEST_FILES:
        df = tables[name]
        ts = pd.to_datetime(df[TIMESTAMPS[name]], utc=True).astype("datetime64[s, UTC]")
        secs = ts.dt.tz_localize(None).to_numpy("datetime64[s]").astype("int64")
        rows.append({"table": name, "rows": len(df), "ts_sum": int(secs.sum())})
    return {"ingest": pd.DataFrame(rows)}


def _ingest(impl: str, folder: Path) -> dict[str, Any]:
    import duckdb
    import pandas as pd
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from helpers.ingest import load_crm

    fmt = folder.name
    files = {name: folder / f"{name}.{fmt}" for name in INGEST_FILES}
    if impl == "kit":
        crm, report = load_crm(folder, "kit", key=KEY)
        if not report.usable:
            raise RuntimeError("load_crm found the benchmark export unusable")
        return crm.tables()
    if impl == "pyarrow":
        read = pacsv.read_csv if fmt == "csv" else pq.read_table
        return {n: read(p).to_pandas() for n, p in files.items()}
    if impl == "duckdb":
        reader = "read_csv" if fmt == "csv" else "read_parquet"
        with duckdb.connect() as con:
            return {n: con.sql(f"SELECT * FROM {reader}('{p}')").df() for n, p in files.items()}
    if fmt == "parquet":
        return {n: pd.read_parquet(p) for n, p in files.items()}
    out = {}
    for name, path in files.items():
        df = pd.read_csv(path)
        for col in df.columns:
            if col in ("created_at", "entered_at", "exited_at", "closed_at", "at"):
                df[col] = pd.to_datetime(df[col], utc=True)
        out[name] = df
    return out


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Load the data, run one implementation ``repeats`` times, keep its output for the check."""
    sys.path.insert(0, str(ROOT))
    from bench import impls
    from helpers.ingest import load_canonical

    size_dir = CACHE / str(spec["size"])
    times = []
    if spec["analysis"].startswith("ingest_"):
        folder = size_dir / spec["analysis"].removeprefix("ingest_")
        loaded_mb = _rss_mb()
        for _ in range(spec["repeats"]):
            t0 = time.perf_counter()
            tables = _ingest(spec["impl"], folder)
            times.append(time.perf_counter() - t0)
        result = _ingest_summary(tables)
    else:
        crm = load_canonical(size_dir / "canonical")
        if spec.get("subsample"):
            crm = _subsample(crm, spec["subsample"])
        when = impls.as_of(crm)
        loaded_mb = _rss_mb()
        fn = impls.ANALYSES[spec["analysis"]][spec["impl"]]
        for _ in range(spec["repeats"]):
            t0 = time.perf_counter()
            result = fn(crm, when)
            times.append(time.perf_counter() - t0)
    with open(spec["out"], "wb") as fh:
        pickle.dump(result, fh)
    return {"times": times, "peak_mb": _peak_mb(), "loaded_mb": loaded_mb}


def prepare(size: int, csv: bool) -> None:
    """Generate the company once per size: canonical Parquet, and the export for ingestion."""
    from helpers.ingest import save_canonical
    from helpers.sample import GENERATOR_VERSION, generate, write_export

    folder = CACHE / str(size)
    stamp = folder / "stamp.json"
    want = {"version": GENERATOR_VERSION, "seed": SEED, "leads": size}
    done = json.loads(stamp.read_text()) if stamp.exists() else {}
    if {k: done.get(k) for k in want} != want:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        done = dict(want)
    need_csv = csv and not done.get("csv")
    if "canonical" in done and not need_csv:
        return
    export = generate(leads=size, seed=SEED)
    if "canonical" not in done:
        save_canonical(export.to_crm(), folder / "canonical")
        done["canonical"] = True
    if need_csv:
        for fmt in ("csv", "parquet"):
            write_export(export, folder / fmt, fmt=fmt)
        done["csv"] = True
    stamp.write_text(json.dumps(done))


# --------------------------------------------------------------------------------------------
# parent side
# --------------------------------------------------------------------------------------------


def _python() -> str:
    return sys.executable


def _spawn(args: list[str], timeout: float) -> dict[str, Any]:
    proc = subprocess.run(
        [_python(), str(Path(__file__).resolve()), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(spec: dict[str, Any], timeout: float) -> tuple[dict[str, Any], Any]:
    """Run one worker; returns its timings and the output it computed."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = {**spec, "out": str(Path(tmp) / "result.pkl")}
        info = _spawn(["--worker", json.dumps(spec)], timeout)
        with open(spec["out"], "rb") as fh:
            result = pickle.load(fh)
    return info, result


def _tree_rss_mb(proc: psutil.Process) -> float:
    """Resident memory of a process and all its descendants, summed (MB)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total / 2**20


def report_worker(size: int, timeout: float) -> dict[str, Any]:
    """``smarketing report`` on the size's CSV export (size 0: the bundled sample's config):
    wall time, the peak of the summed memory of the command and all its kernels and converters
    (sampled every 50 ms), and the largest single process's peak (``RUSAGE_CHILDREN``; this
    runs in its own worker process, so that covers only this report).
    """
    smarketing = Path(_python()).with_name("smarketing")
    data = ["--data", str(CACHE / str(size) / "csv")]
    source = ["--config", str(SAMPLE_CONFIG)] if size == 0 else data
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with (
            open(Path(tmp) / "out.txt", "w+") as out,
            subprocess.Popen(
                [str(smarketing), "report", *source, "--out", str(Path(tmp) / "run")],
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                cwd=tmp,
                env={**os.environ, "SMARKETING_PSEUDONYM_KEY": KEY.decode()},
            ) as proc,
        ):
            tree, total_peak = psutil.Process(proc.pid), 0.0
            while proc.poll() is None:
                with contextlib.suppress(psutil.Error):
                    total_peak = max(total_peak, _tree_rss_mb(tree))
                if time.perf_counter() - t0 > timeout:
                    proc.kill()
                    raise subprocess.TimeoutExpired(proc.args, timeout)
                time.sleep(0.05)
            wall = time.perf_counter() - t0
            out.seek(0)
            printed = out.read()
        manifest = Path(tmp) / "run" / "manifest.json"
        steps = json.loads(manifest.read_text()) if manifest.exists() else {}
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    notebooks = {k: v.get("seconds") for k, v in steps.get("notebooks", {}).items()}
    tail = printed.strip().splitlines()[-1:] if proc.returncode else []
    return {
        "exit": proc.returncode,
        "seconds": wall,
        "peak_mb": peak,
        "total_peak_mb": total_peak,
        "error": " ".join(tail),
        "notebooks": notebooks,
    }


def measure_report(size: int, timeout: float) -> dict[str, Any]:
    try:
        return _spawn(["--report", str(size)], timeout + 60)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return {
            "exit": None,
            "seconds": None,
            "peak_mb": None,
            "total_peak_mb": None,
            "error": str(exc),
        }


def _best(info: dict[str, Any] | None) -> float | None:
    return min(info["times"]) if info else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def run(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from bench import impls

    rows: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    started = time.time()
    run_id = machine()["date"]
    if not args.no_report and SAMPLE_CONFIG.exists():  # quick: measured in every run
        rep = {"size": 0, **measure_report(0, args.timeout)}
        reports.append(rep)
        print(f"bundled sample: smarketing report {rep}", flush=True)
    for size in args.sizes:
        csv = size <= args.ingest_max
        print(f"[{size:>9,}] preparing data", flush=True)
        _spawn(["--prepare", str(size), "--csv" if csv else "--no-csv"], args.timeout)
        analyses = list(impls.ANALYSES)
        if csv:
            analyses = ["ingest_csv", "ingest_parquet", *analyses]
        if args.analyses:
            analyses = [a for a in analyses if a in args.analyses]
        for analysis in analyses:
            row: dict[str, Any] = {"size": size, "analysis": analysis, "notes": [], "run": run_id}
            ingest = analysis.startswith("ingest_")
            impl_names = ["kit", "duckdb", "naive"] + (["pyarrow"] if ingest else [])
            outputs: dict[str, Any] = {}
            if (args.skip_naive or size > NAIVE_LIMIT) and not ingest:
                impl_names.remove("naive")
                row["notes"].append("naive not run at this size")
            for impl in impl_names:
                repeats = args.repeats if size <= 1_000_000 else args.large_repeats
                spec = {"size": size, "analysis": analysis, "impl": impl, "repeats": repeats}
                scale = 1.0
                if impl == "naive" and not ingest and size > args.naive_max:
                    spec["subsample"] = args.naive_max
                    scale = size / args.naive_max
                    row["notes"].append(
                        f"naive timed on a {args.naive_max:,}-lead subsample, x{scale:g}"
                    )
                if impl in ("naive", "kit") and ingest and size > args.naive_max:
                    spec["repeats"] = min(repeats, 2)  # a slow step: best of two at most
                try:
                    info, out = measure(spec, args.timeout)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    row["notes"].append(f"{impl} failed: {exc}")
                    continue
                row[f"{impl}_s"] = _best(info) * scale
                row[f"{impl}_peak_mb"] = info["peak_mb"]
                row[f"{impl}_loaded_mb"] = info["loaded_mb"]
                row[f"{impl}_runs"] = len(info["times"])
                if spec.get("subsample"):
                    sub = dict(spec, impl="kit", repeats=1)
                    _, kit_sub = measure(sub, args.timeout)
                    problem = impls.compare(kit_sub, out)
                    row["check_naive"] = problem or "same numbers (on the subsample)"
                else:
                    outputs[impl] = out
            if "kit" in outputs:
                for impl, out in outputs.items():
                    if impl != "kit":
                        row[f"check_{impl}"] = impls.compare(outputs["kit"], out) or "same numbers"
            mismatch = [k for k, v in row.items() if k.startswith("check_") and "same" not in v]
            row["ok"] = not mismatch and "kit_s" in row
            if mismatch:
                row["notes"].append("MISMATCH: " + "; ".join(row[k] for k in mismatch))
            row["kit_vs_duckdb"] = _ratio(row.get("kit_s"), row.get("duckdb_s"))
            row["naive_vs_kit"] = _ratio(row.get("naive_s"), row.get("kit_s"))
            if ingest:
                row["kit_vs_pyarrow"] = _ratio(row.get("kit_s"), row.get("pyarrow_s"))
            rows.append(row)
            print(_line(row), flush=True)
        if size in args.report_sizes and not args.no_report:
            rep = {"size": size, **measure_report(size, args.timeout)}
            reports.append(rep)
            print(f"[{size:>9,}] smarketing report: {rep}", flush=True)
    return {
        "machine": {**machine(), "date": run_id},  # the date the run started
        "repeats": args.repeats,
        "large_repeats": args.large_repeats,
        "naive_max": args.naive_max,
        "minutes": (time.time() - started) / 60,
        "rows": rows,
        "reports": reports,
        "slopes": slopes(rows),
    }


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` plus the rows (size and analysis) and reports (size) of ``old`` that ``new``
    did not measure."""
    measured = {(r["size"], r["analysis"]) for r in new["rows"]}
    sizes = {r["size"] for r in new["reports"]}
    out = dict(new)
    out["rows"] = sorted(
        [r for r in old["rows"] if (r["size"], r["analysis"]) not in measured] + new["rows"],
        key=lambda r: (r["size"], ANALYSIS_ORDER.index(r["analysis"])),
    )
    out["reports"] = sorted(
        [r for r in old["reports"] if r["size"] not in sizes] + new["reports"],
        key=lambda r: r["size"],
    )
    out["runs"] = [*old.get("runs", [old["machine"]]), new["machine"]]
    out["minutes"] = new["minutes"]  # this run's; the merged rows say when they were measured
    out["slopes"] = slopes(out["rows"])
    return out


def _fmt(x: float | None, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}f}" if x < 100 else f"{x:.0f}"


def _line(row: dict[str, Any]) -> str:
    return (
        f"[{row['size']:>9,}] {row['analysis']:<18} kit {_fmt(row.get('kit_s'))} s"
        f"  duckdb {_fmt(row.get('duckdb_s'))} s  naive {_fmt(row.get('naive_s'))} s"
        f"  pyarrow {_fmt(row.get('pyarrow_s'))} s  ok={row['ok']}  {'; '.join(row['notes'])}"
    )


def slopes(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Log-log slope of the kit's time against leads, from 100k leads up, per analysis."""
    import numpy as np

    out = {}
    for analysis in sorted({r["analysis"] for r in rows}):
        pts = [
            (r["size"], r["kit_s"])
            for r in rows
            if r["analysis"] == analysis and r["size"] >= 100_000 and r.get("kit_s")
        ]
        if len(pts) >= 2:
            x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
            out[analysis] = float(np.polyfit(x, y, 1)[0])
    return out


def machine() -> dict[str, Any]:
    import duckdb
    import pandas as pd
    import pyarrow

    mem = 0.0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) / 1024 / 1024
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem, 1),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "pyarrow": pyarrow.__version__,
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": _commit(),
    }


def _commit() -> str:
    """The checked-out commit, marked ``+changes`` when ``src/`` differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "src"], cwd=ROOT)
    except OSError:
        return "unknown"
    return head + ("+changes" if dirty.returncode else "")


def markdown(res: dict[str, Any]) -> str:
    m = res["machine"]
    load = ", ".join(f"{x:.1f}" for x in m["load_average"])
    runs = res.get("runs", [])
    merged = [f"{r['date']} (commit {r.get('commit', 'unknown')})" for r in runs[:-1]]
    lines = [
        f"Run {m['date']} on {m['nproc']} cores, {m['memory_gb']} GB, Python {m['python']}, "
        f"pandas {m['pandas']}, pyarrow {m['pyarrow']}, duckdb {m['duckdb']} "
        f"(commit {m.get('commit', 'unknown')}; load average at the end {load}; "
        f"best of {res['repeats']}, {res.get('large_repeats', 1)} above 1M leads; "
        f"{res['minutes']:.0f} min in all).",
        "",
        "| leads | analysis | kit s | duckdb s | naive s | kit / duckdb | naive / kit "
        "| kit peak MB | same numbers | notes |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    if merged:
        lines[0:0] = [f"Rows not measured in the last run come from: {'; '.join(merged)}.", ""]
    for r in res["rows"]:
        notes = list(r["notes"])
        if r.get("run", m["date"]) != m["date"]:
            notes.insert(0, f"measured {r['run']}")
        if r.get("pyarrow_s"):
            notes.insert(
                0, f"bare pyarrow {_fmt(r['pyarrow_s'])} s (kit x{_fmt(r['kit_vs_pyarrow'], 1)})"
            )
        lines.append(
            f"| {r['size']:,} | {r['analysis']} | {_fmt(r.get('kit_s'))} | "
            f"{_fmt(r.get('duckdb_s'))} | {_fmt(r.get('naive_s'))} | "
            f"{_fmt(r.get('kit_vs_duckdb'), 1)} | {_fmt(r.get('naive_vs_kit'), 1)} | "
            f"{_fmt(r.get('kit_peak_mb'), 0)} | {'yes' if r['ok'] else 'NO'} | "
            f"{'; '.join(notes)} |"
        )
    if res["slopes"]:
        lines += ["", "Log-log slope of the kit's time against leads (100k and up):", ""]
        lines += [f"- {k}: {v:.2f}" for k, v in res["slopes"].items()]
    if res["reports"]:
        lines += ["", "`smarketing report` (kernels included):", ""]
        for rep in res["reports"]:
            what = "the bundled sample" if rep["size"] == 0 else f"{rep['size']:,} leads"
            status = "ok" if rep["exit"] == 0 else f"failed (exit {rep['exit']}): {rep['error']}"
            each = ", ".join(f"{k} {_fmt(v, 1)} s" for k, v in rep.get("notebooks", {}).items())
            each = f" (notebooks: {each})" if each else ""
            lines.append(
                f"- {what}: {_fmt(rep['seconds'])} s wall, peak memory of all its processes "
                f"together {_fmt(rep.get('total_peak_mb'), 0)} MB (largest single process "
                f"{_fmt(rep['peak_mb'], 0)} MB), {status}{each}"
            )
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- latest results: written by run_bench.py -->", "<!-- end of latest results -->"


def update_readme(path: Path, table: str) -> None:
    """Put the latest table between the two markers of ``path`` (``bench/README.md`` and the
    project README's Performance section)."""
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        return
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(f"{head}{BEGIN}\n{table}{END}{tail}", encoding="utf-8")


def plot(res: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    analyses = sorted({r["analysis"] for r in res["rows"]})
    cols = 3
    nrows = math.ceil(len(analyses) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 3.2 * nrows), squeeze=False)
    styles = {"kit": "o-", "duckdb": "s--", "naive": "^:", "pyarrow": "d-."}
    for ax, analysis in zip(axes.flat, analyses, strict=False):
        rows = [r for r in res["rows"] if r["analysis"] == analysis]
        for impl, style in styles.items():
            pts = [(r["size"], r[f"{impl}_s"]) for r in rows if r.get(f"{impl}_s")]
            if pts:
                ax.loglog(*zip(*pts, strict=True), style, label=impl)
        ax.set_title(analysis)
        ax.set_xlabel("leads")
        ax.set_ylabel("seconds")
        ax.legend(fontsize="small")
    for ax in list(axes.flat)[len(analyses) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    p.add_argument("--quick", action="store_true", help="10k and 100k leads, one repetition")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--naive-max", type=int, default=100_000, help="larger: time on a subsample")
    p.add_argument("--ingest-max", type=int, default=1_000_000, help="largest export to ingest")
    p.add_argument("--report-sizes", type=int, nargs="*", default=[1_000_000])
    p.add_argument("--no-report", action="store_true")
    p.add_argument(
        "--analyses", nargs="+", choices=ANALYSIS_ORDER, help="only these rows (default: all)"
    )
    p.add_argument("--timeout", type=float, default=1800)
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    p.add_argument("--report", type=int, help=argparse.SUPPRESS)
    p.add_argument("--large-repeats", type=int, default=3, help="repetitions above 1M leads")
    p.add_argument("--merge", action="store_true", help="keep other sizes from latest.json")
    p.add_argument("--skip-naive", action="store_true", help="no plain pandas version")
    p.add_argument("--csv", action=argparse.BooleanOptionalAction, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    if args.report is not None:
        print(json.dumps(report_worker(args.report, args.timeout)))
        return 0
    if args.prepare:
        prepare(args.prepare, bool(args.csv))
        print(json.dumps({"prepared": args.prepare}))
        return 0
    if args.quick:
        args.sizes, args.repeats = [10_000, 100_000], 1
    res = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.merge and (args.out / "latest.json").exists():
        res = merge(json.loads((args.out / "latest.json").read_text()), res)
    (args.out / "latest.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
    (args.out / "latest.md").write_text(markdown(res))
    plot(res, args.out / "latest.png")
    if args.out == RESULTS:
        for readme in (HERE / "README.md", ROOT / "README.md"):
            update_readme(readme, markdown(res))
    print(markdown(res))
    bad = [r for r in res["rows"] if not r["ok"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
