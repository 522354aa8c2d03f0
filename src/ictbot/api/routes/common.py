"""Shared route pieces: path parameter types, small bodies, documented error answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict

from ictbot.api.dto import Reason
from ictbot.ports.facade import FieldError

EntityId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    reason: Reason = ""


class ErrorBody(BaseModel):
    """401, 403, 404, 400, 413."""

    detail: str


class ConflictBody(BaseModel):
    """409: why the request cannot be carried out now."""

    detail: str
    reasons: list[str]


class ValidationErrorBody(BaseModel):
    """422: one entry per invalid field."""

    detail: str
    errors: list[FieldError]


_DESCRIBED: dict[int, tuple[str, type[BaseModel]]] = {
    400: ("malformed request (e.g. an invalid Content-Length)", ErrorBody),
    401: ("missing or invalid token", ErrorBody),
    403: ("token lacks the trade scope", ErrorBody),
    404: ("unknown id", ErrorBody),
    409: ("not possible in the current state", ConflictBody),
    413: ("request body too large", ErrorBody),
    422: ("invalid input, with field-level reasons", ValidationErrorBody),
    503: ("trading cannot proceed", ErrorBody),
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these status codes, each with its error body model."""
    return {code: {"description": _DESCRIBED[code][0], "model": _DESCRIBED[code][1]} for code in codes}


# Any request can be refused before routing: a bad Content-Length (400) or a body over the limit (413).
ANY_ERRORS = errors(400, 413)
READ_ERRORS = {**ANY_ERRORS, **errors(401, 422)}
TRADE_ERRORS = {**ANY_ERRORS, **errors(401, 403, 409, 422)}
