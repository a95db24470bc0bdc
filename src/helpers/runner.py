"""``smarketing report`` and ``smarketing batch``: run the notebooks unattended into a run folder.

One run: check the config and every notebook's parameters (an unknown parameter is an error
before anything executes), validate the data once (an unusable export stops the run with exit 2
and the validation report), save canonical Parquet, execute the notebooks with papermill in
parallel, export each to a self-contained HTML page without code, write ``results.json``,
``manifest.json`` and ``index.html``, and move the folder into place in one rename. A failed run
is written beside the target as ``<target>.failed/`` with ``FAILED.txt``; the last good run is
left untouched. ``docs/report.md`` describes the folder and the exit codes.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import nbformat

from helpers import __version__, exitcodes
from helpers.config import (
    NOTEBOOKS,
    ClientConfig,
    config_from_args,
    describe,
    load_config,
    notebook_parameters,
)
from helpers.errors import KitError
from helpers.messages import t
from helpers.report.pages import (
    data_period,
    export_notebook_html,
    notebook_title,
    render_index,
)
from helpers.results import dumps, read_results, write_text_atomic

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
KERNEL = "python3"
CANONICAL = "canonical"
# Parameters every notebook declares; the sections it also receives are listed per notebook.
SECTIONS: dict[str, tuple[str, ...]] = {
    "00_alignment_assessment": ("common",),
    "01_buyer_personas": ("common", "personas"),
    "02_sla": ("common", "targets", "sla"),
    "03_funnel_handoffs": ("common", "targets", "sla"),
    "04_collaboration_impact": ("common", "programme"),
}
PATH_PARAMETERS: tuple[str, ...] = ("data_dir", "canonical_dir", "run_dir")
KEY_PACKAGES: tuple[str, ...] = (
    "pandas", "numpy", "pyarrow", "pandera", "scipy", "statsmodels", "scikit-learn",
    "matplotlib", "seaborn", "papermill", "nbconvert", "nbformat", "nbclient", "ipykernel",
)  # fmt: skip


@dataclass(frozen=True)
class NotebookSpec:
    """A notebook the runner executes and the parameter sections it receives."""

    name: str
    path: Path
    sections: tuple[str, ...] = ("common",)


@dataclass
class NotebookRun:
    """How one notebook's execution went."""

    name: str
    status: str = "pending"  # ok | failed
    seconds: float = 0.0
    cell: int | None = None
    ename: str | None = None
    evalue: str | None = None


@dataclass
class ReportOutcome:
    """The result of one report run."""

    exit_code: int
    run_dir: Path | None
    status: str  # ok | failed | unusable
    messages: list[str] = field(default_factory=list)
    notebooks: list[NotebookRun] = field(default_factory=list)

    @property
    def index(self) -> Path | None:
        return self.run_dir / "index.html" if self.run_dir and self.status == "ok" else None


def standard_specs(
    names: Sequence[str] = NOTEBOOKS, notebooks_dir: Path | None = None
) -> list[NotebookSpec]:
    """Notebooks by name, with the parameter sections each receives.

    A kit notebook gets its sections (:data:`SECTIONS`); a client's own notebook (from the
    config's ``notebooks_dir``) gets the common parameters only.
    """
    folder = notebooks_dir or NOTEBOOKS_DIR
    return [NotebookSpec(n, folder / f"{n}.ipynb", SECTIONS.get(n, ("common",))) for n in names]


def parameters_for(
    spec: NotebookSpec, config: ClientConfig, runtime: Mapping[str, Any]
) -> dict[str, Any]:
    """The parameters one notebook gets: its sections of the config plus the run's paths."""
    sections = notebook_parameters(config)
    params: dict[str, Any] = dict(runtime)
    for section in spec.sections:
        params.update(sections[section])
    return params


def declared_parameters(path: Path) -> set[str]:
    """Names assigned in a notebook's ``parameters`` cell.

    papermill's ``inspect_notebook`` reads them with a regular expression that skips
    annotations such as ``str | None`` and lines whose comment holds an ``=``; the cell's syntax
    tree fills those in.
    """
    import papermill

    names = set(papermill.inspect_notebook(str(path)))
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    names.add(node.target.id)
                elif isinstance(node, ast.Assign):
                    names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def check_parameters(spec: NotebookSpec, params: Mapping[str, Any]) -> None:
    """Refuse to run a notebook that does not declare every parameter it would be given.

    papermill only warns about unknown parameters and then runs with the notebook's defaults,
    which would silently ignore the client's config.
    """
    if not spec.path.is_file():
        raise KitError("report.notebook_missing", notebook=spec.name, path=str(spec.path))
    declared = declared_parameters(spec.path)
    if not declared:
        raise KitError("report.no_parameters_cell", notebook=spec.name)
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise KitError(
            "report.unknown_parameter",
            notebook=spec.name,
            names=", ".join(unknown),
            known=", ".join(sorted(declared)),
        )


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_files(config: ClientConfig) -> dict[str, Path]:
    """Every input file of a run, by a readable name (folder name / file name)."""
    files: dict[str, Path] = {}
    for root in config.data:
        candidates = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in candidates:
            rel = path.relative_to(root.parent)
            if path.is_file() and not any(part.startswith(".") for part in rel.parts):
                files[rel.as_posix()] = path
    for extra in (config.source, config.personas):
        if extra is not None and extra.is_file():
            files.setdefault(f"{extra.parent.name}/{extra.name}", extra)
    return dict(sorted(files.items()))


def _versions() -> dict[str, str]:
    out = {}
    for name in KEY_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def kernel_environment(lang: str) -> dict[str, str]:
    """Variables the notebook kernels need for quiet, headless, reproducible runs."""
    return {
        "TQDM_DISABLE": "1",
        "MPLBACKEND": "Agg",
        "PYTHONHASHSEED": "0",
        "SMARKETING_LANG": lang,
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


def kernel_manager_class(cwd: Path, env: Mapping[str, str], log: Any) -> type:
    """A kernel manager class that starts kernels in ``cwd`` with ``env`` added.

    papermill's own ``cwd`` changes the working directory of the whole process, which is not
    safe when notebooks run in parallel threads; the kernel's ``cwd`` and environment are set
    here at launch instead. The kernel's own log lines go to ``log``, not the terminal.
    """
    from jupyter_client.manager import AsyncKernelManager

    class RunKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:
            kw["cwd"] = str(cwd)
            kw["env"] = {**os.environ, **env}
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
            await super().start_kernel(**kw)

    return RunKernelManager


def _progress(enabled: bool) -> Callable[[str], None]:
    def say(text: str) -> None:
        if enabled:
            print(text, file=sys.stderr, flush=True)

    return say


def _execute(
    spec: NotebookSpec,
    params: dict[str, Any],
    stage: Path,
    timeout: int,
    lang: str,
    say: Callable[[str], None],
) -> NotebookRun:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    run = NotebookRun(spec.name)
    out = stage / "notebooks" / f"{spec.name}.ipynb"
    logging.getLogger("papermill").setLevel(logging.ERROR)  # parameters were checked already
    say(t("report.progress_start", lang, notebook=spec.name))
    start = time.perf_counter()
    try:
        with (stage / "logs" / f"{spec.name}.kernel.log").open("w") as log:
            papermill.execute_notebook(
                str(spec.path),
                str(out),
                parameters=params,
                kernel_name=KERNEL,
                log_output=False,
                progress_bar=False,
                execution_timeout=timeout,
                start_timeout=KERNEL_START_TIMEOUT,
                request_save_on_cell_execute=False,
                kernel_manager_class=kernel_manager_class(stage, kernel_environment(lang), log),
            )
        run.status = "ok"
        drop_run_times(out, f"notebooks/{out.name}")
        # export while the other kernels still run
        export_notebook_html(
            out,
            stage / f"{spec.name}.html",
            title=notebook_title(spec.name, lang),
            parameters={k: v for k, v in params.items() if k not in PATH_PARAMETERS},
            lang=lang,
        )
    except PapermillExecutionError as exc:
        run.status, run.cell = "failed", source_cell_index(out, exc.cell_index)
        run.ename, run.evalue = exc.ename, exc.evalue
    except Exception as exc:  # a dead kernel, a timeout, an unreadable notebook
        run.status, run.ename, run.evalue = "failed", type(exc).__name__, str(exc).strip()
    run.seconds = round(time.perf_counter() - start, 2)
    key = "report.progress_ok" if run.status == "ok" else "report.progress_failed"
    say(t(key, lang, notebook=spec.name, seconds=f"{run.seconds:.1f}"))
    return run


# papermill waits 60 s for a kernel by default; on a busy machine (a batch, CI) starting a kernel
# that imports pandas can take longer, and the run would fail although nothing is wrong
KERNEL_START_TIMEOUT = 300

RUN_TIMES = ("start_time", "end_time", "duration")  # papermill's, per notebook and per cell


def drop_run_times(executed: Path, where: str) -> None:
    """Remove the clock from an executed notebook (papermill's and the kernel's times, the
    staging folder's path, the random id of the injected cell), so the same input gives the
    same file; ``manifest.json`` keeps
    the times. ``where``: the notebook's path inside the run folder."""
    nb = nbformat.read(executed, as_version=4)
    run = nb.metadata.get("papermill", {})
    for key in RUN_TIMES:
        run.pop(key, None)
    run["output_path"] = where
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for key in RUN_TIMES:
            cell.metadata.get("papermill", {}).pop(key, None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill gives it a random id
    write_text_atomic(executed, nbformat.writes(nb))


def source_cell_index(executed: Path, index: int) -> int:
    """The index in the source notebook of cell ``index`` of the executed one.

    papermill inserts the injected-parameters cell (cells after it move one place down) and,
    in the saved file, an error banner at the top that ``index`` does not count.
    """
    with contextlib.suppress(OSError, ValueError):
        nb = nbformat.read(executed, as_version=4)
        tags = [c.get("metadata", {}).get("tags", []) for c in nb.cells]
        tags = [t for t in tags if "papermill-error-cell-tag" not in t]
        if any("injected-parameters" in t for t in tags[:index]):
            return index - 1
    return index


def failure_message(run: NotebookRun, lang: str) -> str:
    """One line naming the notebook, the cell and the error (never a traceback)."""
    evalue = (run.evalue or "").splitlines()[0] if run.evalue else ""
    if run.cell is None:
        return t(
            "report.notebook_failed_nocell", lang, notebook=run.name, ename=run.ename, evalue=evalue
        )
    return t(
        "report.notebook_failed",
        lang,
        notebook=run.name,
        cell=run.cell + 1,
        ename=run.ename,
        evalue=evalue,
    )


def check_replaceable(folder: Path) -> None:
    """Refuse (exit 2, before any work) a run folder that would replace something that is not
    a report: a file, or a folder holding files but no ``manifest.json`` of an earlier run."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise KitError("report.out_unusable.file_in_the_way", path=str(folder))
    if folder.is_dir() and not (folder / "manifest.json").is_file() and any(folder.iterdir()):
        raise KitError("report.out_unusable.not_a_run", path=str(folder))


def _replace_dir(stage: Path, target: Path) -> None:
    """Move ``stage`` to ``target`` by renames, replacing an older folder cleanly."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    stage.rename(target)
    if old.exists():
        shutil.rmtree(old)


def _manifest(
    config: ClientConfig,
    status: str,
    runs: Sequence[NotebookRun],
    inputs: Mapping[str, Path],
    started: float,
) -> dict[str, Any]:
    return {
        "client": config.client,
        "kit_version": __version__,
        "python": platform.python_version(),
        "packages": _versions(),
        "parameters": describe(config),
        "inputs": {
            name: {"sha256": sha256(p), "bytes": p.stat().st_size} for name, p in inputs.items()
        },
        "notebooks": {
            r.name: {"status": r.status, "seconds": r.seconds, "cell": r.cell, "error": r.ename}
            for r in runs
        },
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 2),
        "status": status,
    }


def _finish_failed(
    stage: Path,
    target: Path,
    manifest: dict[str, Any],
    messages: list[str],
    exit_code: int,
    runs: list[NotebookRun],
) -> ReportOutcome:
    write_text_atomic(stage / "FAILED.txt", "\n".join(messages) + "\n")
    write_text_atomic(stage / "manifest.json", dumps(manifest))
    failed = target.with_name(f"{target.name}.failed")
    _replace_dir(stage, failed)
    status = "unusable" if exit_code == exitcodes.UNUSABLE else "failed"
    return ReportOutcome(exit_code, failed, status, messages, runs)


def _folder_problem(exc: OSError) -> str:
    """Which catalogue reason explains why a folder could not be made."""
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return "file_in_the_way"
    if isinstance(exc, PermissionError):
        return "no_permission"
    return "cannot_create"


def run_report(
    config: ClientConfig,
    *,
    out: str | Path | None = None,
    jobs: int | None = None,
    specs: Sequence[NotebookSpec] | None = None,
    progress: bool = False,
) -> ReportOutcome:
    """Run every notebook of ``config`` into a run folder; see the module docstring.

    Raises :class:`KitError` (exit 2) when the notebooks and the parameters do not match;
    data problems and failing cells are reported in the returned :class:`ReportOutcome`.
    """
    from helpers.ingest import load_crm, save_canonical

    started = time.time()
    lang = config.language
    say = _progress(progress)
    if specs is None:
        specs = standard_specs(config.notebooks, config.notebooks_dir)
    specs = list(specs)
    target = Path(out) if out is not None else Path("runs") / config.slug
    target = target.resolve()
    runtime = {
        "data_dir": str(config.data[0]),
        "canonical_dir": CANONICAL,
        "run_dir": ".",
    }
    all_params = {s.name: parameters_for(s, config, runtime) for s in specs}
    for spec in specs:
        check_parameters(spec, all_params[spec.name])

    inputs = input_files(config)
    for folder in (target, target.with_name(f"{target.name}.failed")):
        check_replaceable(folder)
    stage = target.with_name(f".{target.name}.building-{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if stage.exists():
            shutil.rmtree(stage)
        stage.mkdir()
    except OSError as exc:
        raise KitError(f"report.out_unusable.{_folder_problem(exc)}", path=str(target)) from None
    try:
        say(t("report.progress_validate", lang))
        paths = list(config.data)
        crm, validation = load_crm(paths if len(paths) > 1 else paths[0], config.mapping)
        write_text_atomic(stage / "validation.json", dumps(validation.to_dict()))
        text = validation.render_text(lang)
        write_text_atomic(stage / "validation.txt", text if text.endswith("\n") else text + "\n")
        if not validation.usable:
            manifest = _manifest(config, "failed", [], inputs, started)
            messages = [t("report.data_unusable", lang), text]
            return _finish_failed(stage, target, manifest, messages, exitcodes.UNUSABLE, [])
        save_canonical(crm, stage / CANONICAL)
        period = data_period(crm)
        del crm  # the kernels read the canonical tables; free this copy before they start
        _release_memory()
        (stage / "figures").mkdir(exist_ok=True)
        (stage / "notebooks").mkdir(exist_ok=True)
        (stage / "logs").mkdir(exist_ok=True)
        workers = max(1, min(jobs or os.cpu_count() or 1, len(specs)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [
                pool.submit(_execute, s, all_params[s.name], stage, config.cell_timeout, lang, say)
                for s in specs
            ]
            try:
                runs = [f.result() for f in futures]
            except BaseException:  # Ctrl-C or SIGTERM: end the kernels so the threads end now
                for future in futures:
                    future.cancel()
                stop_children()
                raise

        failed = [r for r in runs if r.status != "ok"]
        if failed:
            manifest = _manifest(config, "failed", runs, inputs, started)
            messages = [failure_message(r, lang) for r in failed]
            return _finish_failed(stage, target, manifest, messages, exitcodes.FAILED, runs)

        results = read_results(stage)
        write_text_atomic(stage / "results.json", dumps(results))
        shown = {k: v for k, v in describe(config).items() if k not in ("cell_timeout",)}
        modules = [
            {
                "name": s.name,
                "title": notebook_title(s.name, lang),
                "href": f"{s.name}.html",
                "results": results.get(s.name, {}),
            }
            for s in specs
        ]
        index_html = render_index(config, modules, results, lang, shown, period)
        write_text_atomic(stage / "index.html", index_html)
        write_text_atomic(
            stage / "manifest.json", dumps(_manifest(config, "ok", runs, inputs, started))
        )
        _replace_dir(stage, target)
        stale = target.with_name(f"{target.name}.failed")
        if stale.exists():
            shutil.rmtree(stale)
        return ReportOutcome(exitcodes.OK, target, "ok", [], runs)
    except BaseException:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
        raise


def stop_children(grace: float = 10.0) -> None:
    """Stop this process's child processes (the notebooks' kernels): terminate, then kill
    those still alive after ``grace`` seconds."""
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()


def _release_memory() -> None:
    """Hand freed memory back to the system (Python objects, Arrow's pool, glibc's heap)."""
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def report_command(args: argparse.Namespace, specs: Sequence[NotebookSpec] | None = None) -> int:
    """``smarketing report``: run one client's notebooks; prints where ``index.html`` is.

    ``specs`` replaces the kit's notebooks (tests and custom notebook sets).
    """
    config = config_from_args(
        args.config, data=args.data, mapping=args.mapping, lang=args.lang, only=args.only
    )
    lang = config.language
    try:
        outcome = run_report(
            config, out=args.out, jobs=args.jobs, specs=specs, progress=sys.stderr.isatty()
        )
    except KitError as exc:  # said in the config's language (``--lang`` has set it if given)
        exc.lang = exc.lang or lang
        raise
    if outcome.status == "ok":
        print(t("report.done", lang, path=str(outcome.index)))
    else:
        for message in outcome.messages:
            print(message, file=sys.stderr)
        print(t("report.failed_folder", lang, path=str(outcome.run_dir)), file=sys.stderr)
    return outcome.exit_code


# --- batch ------------------------------------------------------------------------------------


@dataclass
class BatchItem:
    """One client of a batch and how its run went."""

    config: str
    client: str | None = None  # None until the config is read
    status: str = "pending"  # ok | failed | unusable | interrupted
    exit_code: int | None = 0  # None when the batch was stopped before the client ended
    run_dir: str | None = None  # None when no folder was written
    seconds: float = 0.0
    message: str = ""


_RUNNING: dict[int, subprocess.Popen] = {}  # batch clients running now, by process id


def _run_client(item: BatchItem, target: Path, jobs: int) -> BatchItem:
    cmd = [
        sys.executable,
        "-m",
        "helpers.cli",
        "report",
        "--config",
        item.config,
        "--out",
        str(target),
        "--jobs",
        str(jobs),
    ]
    start = time.perf_counter()
    item.status = "running"
    with subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    ) as proc:
        _RUNNING[proc.pid] = proc
        try:
            _, stderr = proc.communicate()
        finally:
            _RUNNING.pop(proc.pid, None)
    item.seconds = round(time.perf_counter() - start, 2)
    item.exit_code = proc.returncode
    if proc.returncode == exitcodes.OK:
        item.status, item.run_dir = "ok", str(target)
        return item
    item.status = "unusable" if proc.returncode == exitcodes.UNUSABLE else "failed"
    failed = target.with_name(f"{target.name}.failed")
    item.run_dir = str(failed) if failed.is_dir() else None
    if proc.returncode == exitcodes.UNUSABLE and (failed / "validation.txt").is_file():
        item.message = t("report.batch_data_unusable", None, path=str(failed / "validation.txt"))
    else:
        lines = [ln for ln in stderr.splitlines() if ln.strip()]
        item.message = lines[0] if lines else ""
    return item


def _stop_running() -> None:
    """Stop the clients still running (each cleans up its half-built folder) and wait."""
    for proc in list(_RUNNING.values()):
        proc.terminate()
    for proc in list(_RUNNING.values()):
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=60)


class BatchInterrupted(KeyboardInterrupt):
    """A batch stopped part way: ``items`` says what each client got to."""

    def __init__(self, items: list[BatchItem], cause: KeyboardInterrupt) -> None:
        super().__init__()
        self.items, self.cause = items, cause


def run_batch(
    configs: Sequence[str], *, out: str | Path | None = None, jobs: int = 1
) -> list[BatchItem]:
    """Run many client configs, each in its own process; one failure stops no other."""
    items: list[BatchItem] = []
    planned: list[tuple[BatchItem, Path]] = []
    seen: dict[Path, str] = {}
    for path in configs:
        item = BatchItem(config=path)
        items.append(item)
        try:
            config = load_config(path)
        except KitError as exc:
            item.status, item.exit_code, item.message = "unusable", exc.exit_code, exc.message()
            continue
        item.client = config.client
        target = ((Path(out) if out else Path("runs")) / config.slug).resolve()
        if target in seen:
            item.status, item.exit_code = "unusable", exitcodes.UNUSABLE
            item.message = t(
                "report.batch_duplicate", None, client=config.client, other=seen[target]
            )
            continue
        seen[target] = path
        planned.append((item, target))
    per_client = max(1, (os.cpu_count() or 1) // max(1, jobs))
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        list(pool.map(lambda p: _run_client(p[0], p[1], per_client), planned))
    except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM: stop the clients, say what ran
        pool.shutdown(wait=False, cancel_futures=True)
        _stop_running()
        pool.shutdown(wait=True)
        for item in items:
            if item.status in ("pending", "running"):
                item.status, item.exit_code = "interrupted", None
        raise BatchInterrupted(items, stop) from None
    pool.shutdown()
    return items


def batch_exit_code(items: Sequence[BatchItem]) -> int:
    """0 when every client succeeded, 2 when every config was unusable, else 3."""
    if all(i.status == "ok" for i in items):
        return exitcodes.OK
    if all(i.status == "unusable" for i in items):
        return exitcodes.UNUSABLE
    return exitcodes.PARTIAL


def render_batch_table(items: Sequence[BatchItem], lang: str | None = None) -> str:
    """The batch outcome as a plain-text table."""
    head = [
        t(f"report.batch_col_{c}", lang) for c in ("client", "status", "exit", "folder", "seconds")
    ]
    rows = [
        [
            i.client or "-",
            t(f"report.status_{i.status}", lang),
            str(i.exit_code),
            i.run_dir or "-",
            f"{i.seconds:.1f}",
        ]
        for i in items
    ]
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [head, *rows]
    ]
    notes = [f"{i.client or i.config}: {i.message}" for i in items if i.message]
    return "\n".join(lines + (["", *notes] if notes else []))


def batch_command(args: argparse.Namespace) -> int:
    """``smarketing batch``: many clients, a table (or JSON) of outcomes, exit 0/2/3."""
    try:
        items = run_batch(args.configs, out=args.out, jobs=args.jobs)
    except BatchInterrupted as stop:  # what finished is still said, then the stop
        _print_batch(stop.items, args.json)
        raise stop.cause from None
    _print_batch(items, args.json)
    return batch_exit_code(items)


def _print_batch(items: Sequence[BatchItem], as_json: bool) -> None:
    if as_json:
        print(json.dumps([vars(i) for i in items], indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print(render_batch_table(items))
