"""Lossless JSON codec for bus payloads (domain dataclasses with Decimal, enums, tuples ...).

Used where events leave the process (NATS JetStream) and by anything that needs a JSON view of a
domain event. Decoding is driven by the dataclasses' type hints, so ``decode(encode(x)) == x``.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import json
import math
import types
import typing
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, Union

from ictbot.bus.topics import TOPIC_PAYLOADS, Topic


def to_jsonable(value: Any, *, lenient: bool = False) -> Any:
    """Plain JSON structure: Decimal → str, Enum → value, dataclass → dict, sets → sorted lists.

    Strict (the bus): lossless, and a type it cannot encode is an error. ``lenient`` (the API, for
    display): non-finite numbers become null and anything unknown its ``str()``.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if not lenient or math.isfinite(value) else None
    if isinstance(value, Decimal):
        return str(value) if not lenient or value.is_finite() else None
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name), lenient=lenient) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item, lenient=lenient) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [to_jsonable(item, lenient=lenient) for item in items]
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):  # e.g. a view's lazy EventWindow
        return [to_jsonable(item, lenient=lenient) for item in value]
    if lenient:
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode(topic: Topic, payload: Any) -> bytes:
    return json.dumps({"topic": topic.value, "payload": to_jsonable(payload)}, separators=(",", ":")).encode()


def decode(data: bytes) -> tuple[Topic, Any]:
    raw = json.loads(data)
    topic = Topic(raw["topic"])
    return topic, from_jsonable(TOPIC_PAYLOADS[topic], raw["payload"])


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_jsonable(hint: Any, value: Any) -> Any:
    """The value of type ``hint`` that ``to_jsonable`` turned into ``value``; TypeError / ValueError
    when it does not fit."""
    if hint is Any:
        return value
    origin = typing.get_origin(hint)
    if origin is None:
        return _from_class(hint, value)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return _from_union(hint, args, value)
    return _from_container(hint, origin, args, value)


def _from_union(hint: Any, args: tuple[Any, ...], value: Any) -> Any:
    if value is None and type(None) in args:
        return None
    errors: list[str] = []
    for candidate in (arg for arg in args if arg is not type(None)):
        try:
            return from_jsonable(candidate, value)
        except (TypeError, ValueError, KeyError) as exc:
            errors.append(str(exc))
    raise ValueError(f"no union member of {hint} accepts {value!r}: {errors}")


def _from_container(hint: Any, origin: Any, args: tuple[Any, ...], value: Any) -> Any:
    if origin is collections.abc.Sequence:  # decoded as the tuple it stands for
        return tuple(from_jsonable(args[0] if args else Any, item) for item in value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_jsonable(args[0], item) for item in value)
        return tuple(from_jsonable(arg, item) for arg, item in zip(args, value, strict=True))
    if origin in (frozenset, set):
        return frozenset(from_jsonable(args[0], item) for item in value)
    if origin is list:
        return [from_jsonable(args[0], item) for item in value]
    if origin in (dict, Mapping):
        key_type, value_type = args if args else (str, Any)
        return {from_jsonable(key_type, k): from_jsonable(value_type, v) for k, v in value.items()}
    raise TypeError(f"cannot decode {hint!r}")


def _from_class(hint: Any, value: Any) -> Any:
    if not isinstance(hint, type):
        raise TypeError(f"cannot decode {hint!r}")
    if dataclasses.is_dataclass(hint):
        hints = _hints(hint)
        return hint(**{field.name: from_jsonable(hints[field.name], value[field.name])
                       for field in dataclasses.fields(hint) if field.name in value and field.init})
    if issubclass(hint, Enum):
        return hint(value)
    if hint is Decimal:
        if not isinstance(value, str | int):
            raise TypeError(f"Decimal expects a string, got {value!r}")
        return Decimal(value)
    if hint is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise TypeError(f"expected float, got {value!r}")
        return float(value)
    if hint in _EXACT:
        # bool is an int in Python: an int field refuses a bool, a bool field an int
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise TypeError(f"expected {hint.__name__}, got {value!r}")
        return value
    raise TypeError(f"cannot decode {hint!r}")


_EXACT = (bool, int, str)
