"""Shared route pieces: path parameter types, small bodies, documented error answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict

from ictbot.ports.facade import Reason

EntityId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    reason: Reason = ""


class ErrorBody(BaseModel):
    detail: str


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        401: "missing or invalid token",
        403: "token lacks the trade scope",
        404: "unknown id",
        409: "not possible in the current state",
        413: "request body too large",
        422: "invalid input, with field-level reasons",
        503: "degraded",
    }
    return {code: {"description": described[code]} for code in codes}


READ_ERRORS = errors(401, 422)
TRADE_ERRORS = errors(401, 403, 409, 413, 422)
