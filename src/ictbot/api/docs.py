"""``/docs`` (Swagger UI) and ``/redoc`` served entirely from the package: no CDN, works offline.

The JavaScript and CSS are vendored under ``static/docs/`` (versions, sources and licences in its
README.md). The pages load only same-origin scripts, so the API's ``script-src 'self'`` policy
holds; they relax ``style-src`` alone, because both UIs set inline styles (Redoc's styled
components inject ``<style>`` elements), and let Redoc start its search worker from a blob.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS_ASSETS_DIR = Path(__file__).with_name("static") / "docs"
ASSETS_URL = "/static/docs"

DOCS_CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; font-src 'self' data:; frame-ancestors 'none'"
)

_SWAGGER_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ictbot API — Swagger UI</title>
<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS_URL}/swagger-ui/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_URL}/swagger-ui/swagger-ui-bundle.js"></script>
<script src="{ASSETS_URL}/swagger-init.js"></script>
</body>
</html>
"""

_REDOC_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ictbot API — ReDoc</title>
<link rel="icon" type="image/png" href="{ASSETS_URL}/swagger-ui/favicon-32x32.png">
</head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="{ASSETS_URL}/redoc/redoc.standalone.js"></script>
</body>
</html>
"""


def mount_docs(app: FastAPI) -> None:
    """Add ``/docs``, ``/redoc`` and their assets (call before anything is mounted at ``/static``)."""

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> Response:
        return HTMLResponse(_SWAGGER_PAGE, headers={"content-security-policy": DOCS_CSP})

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> Response:
        return HTMLResponse(_REDOC_PAGE, headers={"content-security-policy": DOCS_CSP})

    app.mount(ASSETS_URL, StaticFiles(directory=DOCS_ASSETS_DIR), name="docs-assets")
