"""The web application: REST API under /api/v1 and the back office, on one server."""

from fastapi import FastAPI

from recur.context import AppContext, context_from_settings
from recur.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    ctx: AppContext = context_from_settings(settings)
    app = FastAPI(title="Recur", version="0.1.0", docs_url="/docs", openapi_url="/openapi.json")
    app.state.ctx = ctx

    from recur.api import install as install_api
    from recur.web import install as install_web

    install_api(app)
    install_web(app)
    return app
