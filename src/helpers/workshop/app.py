"""``smarketing app sla``: the SLA calculator as a web page (Voila), for a room that wants no code.

Voila serves ``apps/sla_app.ipynb`` with the kit's ``smarketing`` page template (Voila's lab
page without its requests to public CDNs), on localhost only. The language reaches the
notebook's kernel through ``SMARKETING_LANG``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

from helpers import exitcodes
from helpers.errors import KitError
from helpers.messages import current_language, t

HERE = Path(__file__).resolve().parent
APPS: dict[str, str] = {"sla": "sla_app.ipynb"}
TEMPLATE = "smarketing"
HOST = "127.0.0.1"


def app_notebook(name: str) -> Path:
    """The notebook Voila serves for app ``name``."""
    return HERE / "apps" / APPS[name]


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


def voila_argv(notebook: Path, port: int, open_browser: bool = False) -> list[str]:
    """The Voila command line for ``notebook`` on ``port``."""
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


def app_command(args: argparse.Namespace) -> int:
    """Serve the app until Ctrl-C; print its address first."""
    lang = args.lang or current_language()
    notebook = app_notebook(args.name)
    if importlib.util.find_spec("voila") is None:
        raise KitError("workshop.app.voila_missing")
    if not notebook.is_file():
        raise KitError("workshop.app.notebook_missing", path=str(notebook))
    if not port_is_free(args.port):
        raise KitError("workshop.app.port_busy", port=args.port)
    argv = voila_argv(notebook, args.port, open_browser=not args.no_browser)
    print(t("workshop.app.serving", lang, url=app_url(args.port)), flush=True)
    process = subprocess.Popen(argv, env=voila_env(lang), cwd=notebook.parent)
    try:
        code = process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        print(t("workshop.app.stopped", lang), file=sys.stderr)
        return exitcodes.INTERRUPTED
    if code != 0:
        print(t("workshop.app.failed", lang, code=code), file=sys.stderr)
        return exitcodes.FAILED
    return exitcodes.OK
