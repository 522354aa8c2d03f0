"""What the dashboard needs besides the other routes: the caller's scope and the symbols' steps."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import Response

from ictbot.api.auth import Scope, TokenAuthority, parse_bearer
from ictbot.api.deps import facade_of, json_response
from ictbot.api.routes.common import READ_ERRORS
from ictbot.ports.dashboard import InstrumentView, MarketInfo

router = APIRouter()


class SessionView(BaseModel):
    """``read``: the page hides every control that changes state; ``trade``: it shows them."""

    scope: Literal["read", "trade"]


@router.get("/session", tags=["system"], response_model=SessionView, responses=READ_ERRORS)
async def session(request: Request) -> Response:
    """The scope of the token this request carries (the middleware has already accepted it)."""
    tokens: TokenAuthority = request.app.state.tokens
    granted = tokens.scope_of(parse_bearer(request.headers.get("authorization")))
    # the middleware let the request through, so the token has a scope; read is the safe answer anyway
    return json_response(SessionView(scope="trade" if granted is Scope.TRADE else "read"))


@router.get("/instruments", tags=["market"], response_model=list[InstrumentView], responses=READ_ERRORS)
async def instruments(request: Request) -> Response:
    """Tick and step size of every traded symbol (prices on the dashboard are rounded to the tick);
    an empty list when the running facade does not know its instruments."""
    facade = facade_of(request)
    return json_response(await facade.instruments() if isinstance(facade, MarketInfo) else [])
