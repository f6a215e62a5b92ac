"""A body already validated by its schema, sent as pydantic serialises it."""

from collections.abc import Mapping

from fastapi.responses import Response
from pydantic import BaseModel


class ModelResponse(Response):
    """JSON of a schema instance, serialised once by pydantic.

    A route that returns its schema object instead has FastAPI validate it again
    against the route's response model, for a sync route in the thread pool: a
    second hop per request, on the API's hottest routes.
    """

    media_type = "application/json"

    def __init__(
        self, model: BaseModel, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(model.model_dump_json(), status_code, headers)
