"""`smarketing app sla` without a browser: command line, environment, template, clear errors."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import nbformat

from helpers.cli import main
from helpers.devtools.check_notebooks import notebook_problems
from helpers.workshop import app


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
