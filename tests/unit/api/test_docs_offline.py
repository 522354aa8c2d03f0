"""/docs and /redoc work offline: every asset their pages reference is served by the app itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ictbot.api import ApiSettings, create_app
from ictbot.api.auth import TokenAuthority

from .fakes import FakeFacade


class _References(HTMLParser):
    """Every URL a page makes the browser fetch: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self._in_script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            if found.get("src"):
                self.urls.append(str(found["src"]))
            else:
                self._in_script_without_src = True
        elif tag in ("link", "img") and (found.get("href") or found.get("src")):
            self.urls.append(str(found.get("href") or found.get("src")))
        elif tag == "redoc" and found.get("spec-url"):
            self.urls.append(str(found["spec-url"]))

    def handle_endtag(self, tag: str) -> None:
        self._in_script_without_src = False if tag == "script" else self._in_script_without_src

    def handle_data(self, data: str) -> None:
        if self._in_script_without_src and data.strip():
            self.inline_scripts += 1


def _references(html: str) -> _References:
    parser = _References()
    parser.feed(html)
    return parser


@pytest.mark.parametrize(("page", "expected"), [
    ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js"}),
    ("/redoc", {"redoc.standalone.js", "openapi.json"}),
])
def test_every_asset_of_the_docs_page_comes_from_the_app(client: TestClient, page: str, expected: set[str]) -> None:
    answer = client.get(page)  # no token: the docs are public, like /openapi.json
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    references = _references(answer.text)
    assert {url.rsplit("/", 1)[-1] for url in references.urls} >= expected
    for url in references.urls:
        assert url.startswith("/"), f"{page} loads {url} from outside the app"
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    assert references.inline_scripts == 0  # the CSP allows same-origin script files only


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_keep_a_same_origin_script_policy(client: TestClient, page: str) -> None:
    policy = client.get(page).headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


def test_vendored_assets_carry_their_licences(client: TestClient) -> None:
    assert "Apache License" in client.get("/static/docs/swagger-ui/LICENSE").text
    assert "MIT License" in client.get("/static/docs/redoc/LICENSE").text
    script = client.get("/static/docs/swagger-ui/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert re.search(r"SwaggerUIBundle", script.text[:200_000]) is not None


def test_docs_off_means_no_pages_and_no_assets(facade: FakeFacade, tokens: TokenAuthority) -> None:
    app: FastAPI = create_app(facade, ApiSettings(ws_heartbeat_s=60, docs_enabled=False, dashboard_enabled=False),
                              tokens=tokens)
    with TestClient(app) as client:
        for url in ("/docs", "/redoc", "/static/docs/swagger-init.js"):
            assert client.get(url).status_code in (401, 404), url
