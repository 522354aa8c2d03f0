"""The configuration as ``ictbot run`` applies it: the file's values with every default filled in.

The file may leave whole sections empty (``"risk": {}``); the stages then use their own defaults
(``RiskLimits``, each strategy kind's config model). ``ictbot config show`` prints this effective
view and marks which values come from defaults rather than from the file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from ictbot.app.config_model import TradingConfig


def effective_document(config: TradingConfig) -> dict[str, Any]:
    """The validated config as a JSON-ready dict, risk limits and strategy params completed."""
    from ictbot.risk.limits import RiskLimits

    document = config.model_dump(mode="json")
    document["risk"] = RiskLimits.model_validate(config.risk).model_dump(mode="json")
    for strategy_id, entry in document["strategies"].items():
        entry["params"] = _effective_params(strategy_id, entry)
    return document


def _effective_params(strategy_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    from ictbot.strategies.registry import StrategyEntry, StrategyRegistry, entry_params, registry_section

    registry = StrategyRegistry()
    registry_entry = StrategyEntry.model_validate(registry_section({strategy_id: entry})[strategy_id])
    model = registry.config_models.get(registry_entry.type or strategy_id)
    params = entry_params(registry_entry, model)
    if model is None:  # a kind without a config model: its params are all there is to show
        return params
    return dict(model.model_validate(params).model_dump(mode="json"))


def default_paths(effective: Mapping[str, Any], stored: Mapping[str, Any]) -> set[str]:
    """Dotted paths of the leaves of ``effective`` that the stored file does not set."""
    return {path for path, _ in _leaves(effective, "") if not _is_set(stored, path.split("."))}


def _leaves(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, inner in value.items():
            yield from _leaves(inner, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _is_set(stored: Any, parts: list[str]) -> bool:
    for part in parts:
        if not isinstance(stored, Mapping) or stored.get(part) is None:
            return False
        stored = stored[part]
    return True


def render_marked(document: Mapping[str, Any], defaults: set[str], *, mark: str = "  // default") -> str:
    """``document`` as indented JSON with ``mark`` after each line whose value is a default.

    The result is JSON-with-comments for people; ``--json`` prints plain JSON for programs.
    """
    return "\n".join(_render(document, "", defaults, mark, 0))


def _render(value: Any, path: str, defaults: set[str], mark: str, depth: int) -> list[str]:
    if not isinstance(value, Mapping) or not value:
        return [json.dumps(value)]
    pad = "  " * (depth + 1)
    lines = ["{"]
    items = list(value.items())
    for index, (key, inner) in enumerate(items):
        child = f"{path}.{key}" if path else str(key)
        body = _render(inner, child, defaults, mark, depth + 1)
        comma = "," if index < len(items) - 1 else ""
        lines.append(f"{pad}{json.dumps(str(key))}: {body[0]}" + ("" if len(body) > 1 else comma))
        lines.extend(body[1:-1])
        if len(body) > 1:
            lines.append(body[-1] + comma)
        elif child in defaults:
            lines[-1] += mark
    lines.append("  " * depth + "}")
    return lines
