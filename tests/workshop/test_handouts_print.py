"""Each handout prints on one A4 page, in every language (Chromium's print to PDF)."""

from __future__ import annotations

import re

import pytest

from helpers.messages import LANGUAGES
from helpers.workshop.handouts import HANDOUTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# A4 less the 15 mm margins of the handouts' @page rule, in CSS pixels (96 per inch)
PRINTABLE_HEIGHT_PX = (297 - 2 * 15) / 25.4 * 96  # about 1009
PRINTABLE_WIDTH_PX = (210 - 2 * 15) / 25.4 * 96  # about 680
PAGE_OBJECT = re.compile(rb"/Type\s*/Page\b")  # one per page; "/Pages" is the page tree


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", HANDOUTS)
def test_handout_prints_on_one_a4_page(written, browser, artifacts, name, lang):
    path = written / f"{name}_{lang}.html"
    page = browser.new_page(
        viewport={"width": round(PRINTABLE_WIDTH_PX), "height": round(PRINTABLE_HEIGHT_PX)}
    )
    try:
        page.goto(path.as_uri())
        page.emulate_media(media="print")
        height = page.evaluate("Math.ceil(document.body.getBoundingClientRect().bottom)")
        pdf = page.pdf(format="A4", prefer_css_page_size=True)
    finally:
        page.close()
    (artifacts / f"{name}_{lang}.pdf").write_bytes(pdf)
    pages = len(PAGE_OBJECT.findall(pdf))
    assert pages == 1, f"{path.name}: {pages} pages ({height} px of {PRINTABLE_HEIGHT_PX:.0f})"
    assert height <= PRINTABLE_HEIGHT_PX, f"{path.name}: {height} px"
