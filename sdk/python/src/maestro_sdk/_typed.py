"""Typed inputs: a task may name a dataclass for its inputs (and one for its outputs). The JSON
Schema spec stays the one source of truth (it is what the runner, the catalog and ``maestro
tasks show`` read, and what ``jsonschema`` checks); the dataclass is checked against it when the
task is defined, so the two cannot drift: every property is a field and every field a property,
a required property is a field without a default, an optional one has a default, and a
field's annotation agrees with the property's ``type``. After the spec's check passes, the
inputs are built into the dataclass (nested objects into nested dataclasses, lists of them too),
so ``execute`` gets ``inputs.who: str`` that a type checker follows.

Why dataclasses, not Pydantic: validation is the spec's job, done by ``jsonschema`` with JSON
Schema's own rules, exactly what the TypeScript SDK (ajv) and the engine apply; Pydantic would
validate again by its own, different rules (coercing ``"5"`` to ``5``), and it brings a compiled
dependency (pydantic-core) into every task's environment. Dataclasses are the standard library.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any

from ._errors import TaskError

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (float, int),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict, Mapping),
    "null": (type(None),),
}


def check_dataclass(cls: type, schema: Mapping[str, Any], what: str) -> None:
    """Refuses a dataclass that does not say what the schema says (a ``spec_invalid`` error)."""
    if not dataclasses.is_dataclass(cls):
        raise _mismatch(what, f"{cls!r} is not a dataclass")
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    hints = _hints(cls, what)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    # In declaration order, so the first mismatch named is the same on every run.
    for name in (n for n in properties if n not in fields):
        raise _mismatch(what, f"property {name!r} has no field in {cls.__name__}")
    for name in (n for n in fields if n not in properties):
        raise _mismatch(what, f"field {cls.__name__}.{name} is not a property of spec.{what}")
    for name, field in fields.items():
        has_default = field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
        if name in required and has_default:
            raise _mismatch(what, f"{cls.__name__}.{name} has a default, but spec.{what} requires it")
        if name not in required and not has_default:
            raise _mismatch(what, f"{cls.__name__}.{name} needs a default: spec.{what} does not require it")
        _check_type(cls.__name__, name, hints[name], properties[name], what)


def _hints(cls: type, what: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except NameError as error:
        raise _mismatch(what, f"{cls.__name__}'s annotations cannot be resolved ({error})") from None


def _check_type(owner: str, name: str, hint: Any, prop: Any, what: str) -> None:
    declared = prop.get("type") if isinstance(prop, Mapping) else None
    if declared is None:
        return
    allowed = [declared] if isinstance(declared, str) else list(declared)
    accepted = tuple(t for kind in allowed for t in _JSON_TYPES.get(kind, (object,)))
    for option in _options(hint):
        if option is Any or option is object:
            return
        origin = typing.get_origin(option) or option
        if isinstance(origin, type) and dataclasses.is_dataclass(origin) and "object" in allowed:
            check_dataclass(origin, prop, f"{what}.properties.{name}")
            continue
        if origin is typing.Literal:  # an enum: each value of a type the spec allows
            if all(_json_type_ok(type(v), allowed, accepted) for v in typing.get_args(option)):
                continue
            raise _mismatch(what, f"{owner}.{name} is {option!r}, but the spec says type {declared!r}")
        if _json_type_ok(origin, allowed, accepted):
            continue
        raise _mismatch(what, f"{owner}.{name} is {_name(hint)}, but the spec says type {declared!r}")


def _json_type_ok(origin: Any, allowed: list[str], accepted: tuple[type, ...]) -> bool:
    # bool is an int in Python, but not an integer (or a number) in JSON Schema.
    is_bool_as_number = origin is bool and "boolean" not in allowed
    return isinstance(origin, type) and issubclass(origin, accepted) and not is_bool_as_number


def _options(hint: Any) -> list[Any]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        # An optional field (``str | None``) may be absent: its None is the default, not a type.
        return [a for a in typing.get_args(hint) if a is not type(None)]
    return [hint]


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", repr(hint))


def _mismatch(what: str, detail: str) -> TaskError:
    return TaskError(
        "spec_invalid",
        f"the {what} dataclass does not match the spec: {detail} (spec.{what})",
        fault="system",
        hint=f"make the dataclass and spec.{what} say the same (the spec is what is checked)",
    )


def build(cls: type | None, value: Any) -> Any:
    """The checked inputs as ``cls`` (recursively); the value itself when there is no type."""
    if cls is None:
        return value
    return _build(cls, value)


def _build(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    for option in _options(hint):
        origin = typing.get_origin(option) or option
        if isinstance(origin, type) and dataclasses.is_dataclass(origin) and isinstance(value, Mapping):
            hints = typing.get_type_hints(origin)
            kwargs = {f.name: _build(hints[f.name], value[f.name]) for f in dataclasses.fields(origin) if f.name in value}
            return origin(**kwargs)
        if origin in (list, tuple) and isinstance(value, list):
            (item,) = typing.get_args(option)[:1] or (Any,)
            return [_build(item, v) for v in value]
    return value


def plain(value: Any) -> Any:
    """A dataclass instance as the JSON object it stands for (fields left at None are absent)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    return value
