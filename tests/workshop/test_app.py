"""`smarketing app sla` without a browser: command line, environment, template, clear errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from helpers import exitcodes
from helpers.cli import main
from helpers.devtools.check_notebooks import notebook_problems
from helpers.messages import LANGUAGES, t
from helpers.workshop import app

SMARKETING = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "smarketing"


def test_the_app_notebook_is_clean_and_uses_the_widget():
    notebook = app.app_notebook("sla")
    assert notebook_problems(notebook) == []
    source = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells)
    assert "sla_calculator(current_language())" in source


def test_voila_is_local_offline_template_and_hides_code():
    argv = app.voila_argv(Path("x.ipynb"), 9123)
    assert argv[1:4] == ["-m", "voila", "x.ipynb"]
    assert {
        "--port=9123",
        "--Voila.ip=127.0.0.1",
        "--template=smarketing",
        "--no-browser",
        "--strip_sources=True",
    } <= set(argv)
    assert "--no-browser" not in app.voila_argv(Path("x.ipynb"), 9123, open_browser=True)


def test_environment_carries_language_and_template_path():
    env = app.voila_env("it", {"JUPYTER_PATH": "/elsewhere", "PATH": "/bin"})
    assert env["SMARKETING_LANG"] == "it"
    assert env["JUPYTER_PATH"].split(os.pathsep) == [str(app.template_root()), "/elsewhere"]
    template = app.template_root() / "voila" / "templates" / app.TEMPLATE
    assert json.loads((template / "conf.json").read_text())["base_template"] == "lab"
    page = (template / "index.html.j2").read_text()
    # the two Font Awesome stylesheets Voila links from a CDN are removed, byte for byte
    voila_page = Path(sys.prefix, "share/jupyter/voila/templates/lab/index.html.j2")
    if voila_page.is_file():
        cdn = [ln.strip() for ln in voila_page.read_text().splitlines() if "cdn.jsdelivr" in ln]
        assert cdn and all(link in page for link in cdn)


def test_a_busy_port_is_a_clear_error_with_exit_code_2(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert not app.port_is_free(port)
        code = main(["app", "sla", "--port", str(port), "--lang", "it", "--no-browser"])
    assert code == 2
    err = capsys.readouterr().err
    assert str(port) in err and "--port" in err and "Traceback" not in err


def test_unknown_app_is_refused_by_the_parser():
    assert main(["app", "nothing"]) == 2


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_is_titled_and_tagged_in_the_rooms_language(tmp_path, lang):
    copy = app.localised_notebook("sla", lang, tmp_path)
    served = nbformat.read(copy, as_version=4)
    original = nbformat.read(app.app_notebook("sla"), as_version=4)
    # the template's <title> is the notebook's metadata title (else the file name, "sla_app")
    assert served.metadata["title"] == t("workshop.app.title_sla", lang)
    assert [c.source for c in served.cells] == [c.source for c in original.cells]
    assert f"--HTMLExporter.language_code={lang}" in app.voila_argv(copy, 9123, lang=lang)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_sigterm_stops_the_voila_server_and_frees_the_port(tmp_path):
    """``kill <pid>`` on ``smarketing app`` (SIGTERM, the parent only) must not leave Voila
    behind holding the port: the next start would fail with "port already in use"."""
    if not SMARKETING.is_file():
        pytest.skip("the smarketing command is not installed in .venv (run make setup)")
    port = _free_port()
    process = subprocess.Popen(
        [str(SMARKETING), "app", "sla", "--port", str(port), "--lang", "it", "--no-browser"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the app exited early"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the app did not answer within 60 s"
                time.sleep(0.5)
        process.send_signal(signal.SIGTERM)  # the smarketing process only, as `kill` does
        _, err = process.communicate(timeout=30)
        assert process.returncode == exitcodes.TERMINATED
        assert t("workshop.app.stopped", "it") in err
        assert app.port_is_free(port), "Voila still holds the port"
    finally:
        if process.poll() is None or not app.port_is_free(port):
            os.killpg(process.pid, signal.SIGKILL)  # the whole group: Voila and its kernels
            process.wait(timeout=10)
