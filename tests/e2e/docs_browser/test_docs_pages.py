"""/docs (Swagger UI) and /redoc (ReDoc) render every operation in a real headless Chromium, offline
and under the pages' Content-Security-Policy (issue #17's acceptance: "headless Chromium shows the
list of operations").

The browser may reach only the API on 127.0.0.1: any other request is aborted and fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from ictbot.api.docs import DOCS_CSP

pytestmark = pytest.mark.slow

# ReDoc's side menu always shows a "by Redocly" logo from its CDN; the page's own CSP blocks it
# (img-src 'self') before any request leaves, and ReDoc hides the broken image. Nothing else may
# log an error.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


class Visit:
    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.foreign: list[str] = []
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.route("**/*", self._only_local)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _only_local(self, route: Any) -> None:
        url = route.request.url
        if urlparse(url).netloc == urlparse(self.base).netloc or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not (REDOC_LOGO in e and "Content Security Policy" in e)]


@pytest.fixture
def visit(browser: Any, served_api: Any) -> Iterator[Visit]:
    context = browser.new_context()
    try:
        yield Visit(context.new_page(), served_api.url)
    finally:
        context.close()


def operations(base: str) -> list[tuple[str, str, str]]:
    """(method, path, operationId) of every documented operation, from the app's own schema."""
    schema = httpx.get(f"{base}/openapi.json", timeout=10).json()
    return [(method.upper(), path, spec["operationId"])
            for path, item in schema["paths"].items() for method, spec in item.items()]


def test_swagger_ui_lists_every_operation(visit: Visit) -> None:
    expected = operations(visit.base)
    response = visit.page.goto(f"{visit.base}/docs")
    assert response is not None and response.headers["content-security-policy"] == DOCS_CSP
    assert "script-src 'self';" in DOCS_CSP and "unsafe-eval" not in DOCS_CSP
    visit.page.wait_for_selector(".opblock-summary-path", timeout=60_000)
    blocks = visit.page.locator(".opblock")
    shown = {(block.locator(".opblock-summary-method").inner_text().strip(),
              block.locator(".opblock-summary-path").get_attribute("data-path"))
             for block in blocks.all()}
    assert len(expected) >= 20 and shown == {(method, path) for method, path, _ in expected}
    assert visit.foreign == [] and visit.unexpected_errors() == []


def test_redoc_lists_every_operation(visit: Visit) -> None:
    expected = operations(visit.base)
    response = visit.page.goto(f"{visit.base}/redoc")
    assert response is not None and response.headers["content-security-policy"] == DOCS_CSP
    visit.page.wait_for_selector("[data-section-id^='operation/']", timeout=60_000)
    sections = visit.page.locator("[data-section-id^='operation/']")
    rendered = {str(section.get_attribute("data-section-id")).removeprefix("operation/") for section in sections.all()}
    assert rendered == {operation_id for _, _, operation_id in expected}
    # Each operation shows its method and path as ReDoc prints them, e.g. "GET /status".
    text = visit.page.locator("body").inner_text()
    assert all(path in text for _, path, _ in expected)
    assert visit.foreign == [] and visit.unexpected_errors() == []
