"""What the dashboard needs besides the other routes: the caller's scope, the symbols' steps and the
ICT picture as of a past candle."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from ictbot.api.auth import Scope, TokenAuthority, parse_bearer
from ictbot.api.deps import facade_of, json_response
from ictbot.api.dto import IndicatorView
from ictbot.api.dto.fields import SymbolName, TimestampMs
from ictbot.api.routes.common import READ_ERRORS, errors
from ictbot.api.serialize import indicator_view
from ictbot.domain.timeframe import Timeframe
from ictbot.ports.dashboard import IndicatorHistory, InstrumentView, MarketInfo
from ictbot.ports.facade import NotFound

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


@router.get("/indicators/at", tags=["market"], response_model=IndicatorView,
            responses={**READ_ERRORS, **errors(404)})
async def indicators_at(
    symbol: Annotated[SymbolName, Query()], at: Annotated[TimestampMs, Query(description="ms UTC: the picture "
                                                                             "once the base candle closing at or "
                                                                             "before this time had closed")],
    request: Request, timeframe: Timeframe | None = None,
) -> Response:
    """The ICT picture as the bot had it at ``at``, rebuilt from the candles stored up to then only (a
    candle stored later never changes the answer): what ``GET /indicators`` said at that time."""
    facade = facade_of(request)
    if not isinstance(facade, IndicatorHistory):
        raise NotFound("indicator history", symbol)
    view = indicator_view(await facade.indicators_at(symbol, at))
    if timeframe is not None:
        if timeframe.value not in view.views:
            raise NotFound("timeframe", timeframe.value)
        view = view.model_copy(update={"views": {timeframe.value: view.views[timeframe.value]}})
    return json_response(view)
