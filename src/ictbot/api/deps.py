"""Route helpers: the facade of the running app and fast JSON answers.

Authentication is not a per-route dependency: ``AuthMiddleware`` applies one deny-by-default policy
to every HTTP request (see ``auth.required_scope``), which is both safer (a new route cannot be
left open by forgetting a dependency) and cheaper (FastAPI's dependency solving per request cost
more than the whole route).
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from ictbot.ports.facade import TradingFacade


def facade_of(request: Request) -> TradingFacade:
    facade: TradingFacade = request.app.state.facade
    return facade


def json_response(content: BaseModel | Sequence[BaseModel], status_code: int = 200) -> Response:
    """Serialise with pydantic-core directly (Decimal as string) and skip FastAPI's re-validation."""
    if isinstance(content, BaseModel):
        body = content.model_dump_json().encode()
    else:
        body = b"[" + b",".join(item.model_dump_json().encode() for item in content) + b"]"
    return Response(body, status_code=status_code, media_type="application/json")
