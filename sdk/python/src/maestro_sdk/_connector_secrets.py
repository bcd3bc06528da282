"""A connector's config holds credentials; its spec marks them as Airbyte does,
``"airbyte_secret": True`` on the property. The connector's code gets the real values, and the
SDK masks every one (``***``) in what the connector reports: logs, outputs, checkpoints, progress
and the message of an error it raises. Such a property is never taken from ``with:`` (stored with
the plan): ``configSecrets`` names the ``env:`` variable holding it. The TypeScript SDK's
``connector-secrets.ts``, in Python."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, TypeVar

MASK = "***"
_BRANCHES = ("allOf", "anyOf", "oneOf")
T = TypeVar("T")


def _is_schema(value: Any) -> bool:
    return isinstance(value, Mapping)


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _is_secret(schema: Any) -> bool:
    return _is_schema(schema) and schema.get("airbyte_secret") is True


def secret_values(schema: Any, value: Any) -> list[str]:
    """The values at the secret properties, at any depth; longest first (a secret inside another)."""
    found: set[str] = set()
    _collect(schema, value, found)
    return sorted((s for s in found if s), key=len, reverse=True)


def _collect(schema: Any, value: Any, into: set[str]) -> None:
    if not _is_schema(schema):
        return
    if _is_secret(schema):
        _leaves(value, into)
        return
    for branch in _BRANCHES:
        for sub in schema.get(branch, []) or []:
            _collect(sub, value, into)
    if isinstance(value, list):
        for item in value:
            _collect(schema.get("items"), item, into)
        return
    if isinstance(value, Mapping):
        for name, sub in (schema.get("properties") or {}).items():
            if name in value:
                _collect(sub, value[name], into)


def _leaves(value: Any, into: set[str]) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, str):
        into.add(value)
    elif isinstance(value, (int, float)):
        into.add(str(value))
    elif isinstance(value, list):
        for v in value:
            _leaves(v, into)
    elif isinstance(value, Mapping):
        for v in value.values():
            _leaves(v, into)


def mask_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def mask_value(value: T, secrets: list[str]) -> T:
    """A JSON value with every string leaf (and key) masked, and a number that is a secret."""
    if not secrets:
        return value
    result: Any = _walk(value, secrets)
    return result  # type: ignore[no-any-return]


def _walk(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return mask_text(value, secrets)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and str(value) in secrets:
        return MASK
    if isinstance(value, list):
        return [_walk(v, secrets) for v in value]
    if isinstance(value, Mapping):
        return {mask_text(str(k), secrets): _walk(v, secrets) for k, v in value.items()}
    return value


def secret_pointers(schema: Any, at: str = "") -> list[str]:
    """The JSON Pointers (into the config) of every secret property: what configSecrets may name."""
    if not _is_schema(schema):
        return []
    found: list[str] = []
    for branch in _BRANCHES:
        for sub in schema.get(branch, []) or []:
            found.extend(secret_pointers(sub, at))
    for name, sub in (schema.get("properties") or {}).items():
        here = f"{at}/{_escape(name)}"
        found.extend([here] if _is_secret(sub) else secret_pointers(sub, here))
    return list(dict.fromkeys(found))


def present_secrets(schema: Any, value: Any, at: str = "") -> list[str]:
    """The pointers of the secret properties ``value`` holds: a secret given inline, in ``with:``."""
    if not _is_schema(schema) or not isinstance(value, (Mapping, list)):
        return []
    found: list[str] = []
    for branch in _BRANCHES:
        for sub in schema.get(branch, []) or []:
            found.extend(present_secrets(sub, value, at))
    if isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(present_secrets(schema.get("items"), item, f"{at}/{i}"))
    else:
        for name, sub in (schema.get("properties") or {}).items():
            if name in value:
                here = f"{at}/{_escape(name)}"
                found.extend([here] if _is_secret(sub) else present_secrets(sub, value[name], here))
    return list(dict.fromkeys(found))


def without_secret_required(schema: Any) -> Any:
    """The config schema ``with:`` is checked against: no secret property required there."""
    if isinstance(schema, list):
        return [without_secret_required(s) for s in schema]
    if not _is_schema(schema):
        return schema
    out = {k: without_secret_required(v) for k, v in schema.items()}
    properties = schema.get("properties") or {}
    if isinstance(schema.get("required"), list):
        out["required"] = [n for n in schema["required"] if not _is_secret(properties.get(n))]
    return out


def is_string_at(schema: Any, pointer: str) -> bool:
    at: Any = schema
    for part in pointer.split("/")[1:]:
        at = (at.get("properties") or {}).get(_unescape(part)) if _is_schema(at) else None
    kind = at.get("type") if _is_schema(at) else None
    return kind is None or kind == "string"


def with_pointer(value: Mapping[str, Any], pointer: str, to: Any) -> dict[str, Any]:
    """A copy of ``value`` with ``pointer`` set (objects made on the way)."""
    out = copy.deepcopy(dict(value))
    parts = [_unescape(p) for p in pointer.split("/")[1:]]
    at = out
    for part in parts[:-1]:
        if not isinstance(at.get(part), dict):
            at[part] = {}
        at = at[part]
    at[parts[-1]] = to
    return out
