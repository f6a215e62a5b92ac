"""REST API (JSON) under /api/v1."""

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the API routers on the application."""
