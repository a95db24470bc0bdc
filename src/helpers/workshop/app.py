"""``smarketing app sla``: the SLA calculator as a web page (Voila), for a room that wants no code.

Voila serves ``apps/sla_app.ipynb`` with the kit's ``smarketing`` page template (Voila's lab
page without its requests to public CDNs), on localhost only. The language reaches the
notebook's kernel through ``SMARKETING_LANG``, and the page itself (its ``<html lang>`` and
the browser tab's title, from the catalogue) through a copy of the notebook made for the
language. Ctrl-C, or SIGTERM (``kill``), stops the Voila server and its kernels too, so the
port is free for the next start.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import nbformat

from helpers import exitcodes
from helpers.errors import KitError
from helpers.messages import current_language, t

HERE = Path(__file__).resolve().parent
APPS: dict[str, str] = {"sla": "sla_app.ipynb"}
STOP_TIMEOUT = 10.0  # seconds Voila gets to end its kernels before it is killed
TEMPLATE = "smarketing"
HOST = "127.0.0.1"


def app_notebook(name: str) -> Path:
    """The notebook Voila serves for app ``name``."""
    return HERE / "apps" / APPS[name]


def localised_notebook(name: str, lang: str, folder: str | Path) -> Path:
    """A copy of app ``name``'s notebook in ``folder`` whose page speaks ``lang``: the browser
    tab's title (notebook metadata ``title``, which the page template puts in ``<title>``)
    comes from the catalogue (``workshop.app.title_<name>``) instead of the file name."""
    notebook = nbformat.read(app_notebook(name), as_version=4)
    notebook.metadata["title"] = t(f"workshop.app.title_{name}", lang)
    target = Path(folder) / APPS[name]
    nbformat.write(notebook, target)
    return target


def template_root() -> Path:
    """A Jupyter data folder holding the kit's Voila template (``voila/templates/smarketing``)."""
    return HERE / "jupyter"


def app_url(port: int) -> str:
    return f"http://{HOST}:{port}/"


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether nothing listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def voila_argv(
    notebook: Path, port: int, open_browser: bool = False, lang: str = "en"
) -> list[str]:
    """The Voila command line for ``notebook`` on ``port``; the page is ``<html lang="lang">``."""
    argv = [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--port={port}",
        f"--Voila.ip={HOST}",
        f"--template={TEMPLATE}",
        "--theme=light",
        "--strip_sources=True",
        "--show_tracebacks=False",
        f"--HTMLExporter.language_code={lang}",
    ]
    if not open_browser:
        argv.append("--no-browser")
    return argv


def voila_env(lang: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for the Voila server and its kernels: language, template path, quiet kernels."""
    env = dict(os.environ if base is None else base)
    paths = [str(template_root())] + [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_PATH"] = os.pathsep.join(paths)
    env["SMARKETING_LANG"] = lang
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("TQDM_DISABLE", "1")
    return env


def stop_server(process: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> None:
    """End the Voila server: SIGTERM (Voila then shuts its kernels down), SIGKILL if it has not
    ended within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _terminated(signum: int, frame: object) -> None:
    from helpers.cli import Terminated

    raise Terminated


def app_command(args: argparse.Namespace) -> int:
    """Serve the app until Ctrl-C or SIGTERM; print its address first. Either way the Voila
    server is stopped before returning, so nothing is left holding the port."""
    from helpers.cli import Terminated  # what SIGTERM raises (the ``smarketing`` command's own)

    lang = args.lang or current_language()
    if importlib.util.find_spec("voila") is None:
        raise KitError("workshop.app.voila_missing")
    if not app_notebook(args.name).is_file():
        raise KitError("workshop.app.notebook_missing", path=str(app_notebook(args.name)))
    if not port_is_free(args.port):
        raise KitError("workshop.app.port_busy", port=args.port)
    # SIGTERM ends the wait below like Ctrl-C, whoever called this (signals reach the main
    # thread only); without it the process would die and leave Voila holding the port
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if main_thread else None
    process: subprocess.Popen | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="smarketing-app-") as folder:
            notebook = localised_notebook(args.name, lang, folder)
            argv = voila_argv(notebook, args.port, open_browser=not args.no_browser, lang=lang)
            print(t("workshop.app.serving", lang, url=app_url(args.port)), flush=True)
            try:
                process = subprocess.Popen(argv, env=voila_env(lang), cwd=notebook.parent)
                code = process.wait()
            finally:  # whatever ended the wait, the server does not outlive this command
                if main_thread:  # a second SIGTERM must not cut the clean-up short
                    signal.signal(signal.SIGTERM, signal.SIG_IGN)
                if process is not None:
                    stop_server(process)
    except Terminated:
        print(t("workshop.app.stopped", lang), file=sys.stderr)
        return exitcodes.TERMINATED
    except KeyboardInterrupt:
        print(t("workshop.app.stopped", lang), file=sys.stderr)
        return exitcodes.INTERRUPTED
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    if code != 0:
        print(t("workshop.app.failed", lang, code=code), file=sys.stderr)
        return exitcodes.FAILED
    return exitcodes.OK
