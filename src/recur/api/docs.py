"""/docs: Swagger UI over /openapi.json, from files this server holds.

FastAPI's own page loads Swagger UI from a CDN (no documentation without internet)
and starts it with an inline script, which the Content-Security-Policy refuses
(http_guards.py). Here the files come from the fastapi-offline package, and a file of
the back office's static folder starts Swagger UI.
"""

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
_SWAGGER_UI = Path(fastapi_offline.__file__).parent / "static"

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Recur API</title>
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
  <link rel="icon" href="{ASSETS}/favicon.png">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="/openapi.json"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Serve /docs and its assets (the app is made with docs_url=None)."""
    app.mount(ASSETS, StaticFiles(directory=_SWAGGER_UI), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_PAGE)
