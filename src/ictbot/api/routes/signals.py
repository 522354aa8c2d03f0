"""Recent signals from the trade journal, with the reasons risk rejected them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ictbot.api.deps import facade_of, json_response
from ictbot.api.dto import SignalQuery, SignalView
from ictbot.api.routes.common import READ_ERRORS

router = APIRouter()


@router.get("/signals", tags=["signals"], response_model=list[SignalView], responses=READ_ERRORS)
async def recent_signals(query: Annotated[SignalQuery, Query()], request: Request) -> Response:
    """Newest first: each signal the strategies produced, accepted or rejected (with reasons)."""
    return json_response(await facade_of(request).recent_signals(query))
