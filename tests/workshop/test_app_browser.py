"""`smarketing app sla` in a real browser: the page loads offline and a slider moves the target."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import fields
from pathlib import Path

import pytest

from helpers import sla
from helpers.messages import t
from helpers.workshop.widgets import SlaInputs

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SMARKETING = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "smarketing"
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the app exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@pytest.fixture()
def sla_app(tmp_path):
    """`smarketing app sla --lang it` on a free port; killed (with its kernels) at the end."""
    if not SMARKETING.is_file():
        pytest.skip("the smarketing command is not installed in .venv (run make setup)")
    port = _free_port()
    log = (tmp_path / "app.log").open("w")
    process = subprocess.Popen(
        [str(SMARKETING), "app", "sla", "--port", str(port), "--lang", "it", "--no-browser"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_http(url, process)
        yield url, tmp_path / "app.log"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        log.close()


def test_slider_moves_the_mql_target_to_the_helpers_value(sla_app, browser, artifacts):
    url, log = sla_app
    assert url in log.read_text()  # the command prints where to go
    base = SlaInputs()  # the calculator's starting values

    def expected(reps: int) -> int:
        funnel = sla.reverse_funnel(
            base.revenue_target,
            base.marketing_share,
            base.avg_deal_size,
            base.rates(),
            months=base.months,
            reps=reps,
            sales_cycle_days=base.sales_cycle_days,
        )
        return funnel.per_rep_per_month["mql"]

    before, after = expected(base.reps), expected(base.reps + 1)
    assert before != after  # the slider move must be visible

    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    outside: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else outside.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url, timeout=60_000)
        target = page.locator(".smk-mql-target")
        target.wait_for(timeout=90_000)
        assert target.inner_text().strip() == str(before)
        assert t("workshop.sla.title", "it") in page.content()  # --lang it reached the kernel
        # the page speaks the room's language: tab title and lang attribute
        assert page.title() == t("workshop.app.title_sla", "it")
        assert page.evaluate("document.documentElement.lang") == "it"
        # every slider label is read whole, none cut off with an ellipsis
        labels = page.eval_on_selector_all(
            ".smk-sla .widget-slider .widget-label",
            "els => els.map(e => [e.textContent, e.scrollWidth, e.clientWidth])",
        )
        assert len(labels) == len(fields(SlaInputs))
        cut = [text for text, needed, shown in labels if needed > shown]
        assert not cut, f"slider labels cut off: {cut}"
        page.screenshot(path=str(artifacts / "sla_app_before.png"))

        page.locator(".smk-reps .noUi-handle").first.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            f"document.querySelector('.smk-mql-target').textContent.trim() === '{after}'",
            timeout=30_000,
        )
        assert page.locator(".smk-reps .widget-readout").inner_text().strip() == str(base.reps + 1)
        page.screenshot(path=str(artifacts / "sla_app_after.png"))
    finally:
        page.close()
    assert not outside, f"the page asked hosts outside this machine: {outside}"
    assert not errors, errors
