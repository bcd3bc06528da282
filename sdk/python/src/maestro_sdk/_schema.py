"""JSON Schema (2020-12) checks with ``jsonschema`` that report every violation with the JSON
Pointer of the value at fault, as the TypeScript SDK does with ajv: jsonschema puts ``required``
and ``additionalProperties`` errors at the parent object, so the missing or extra property's name
is added to the path (a person reads ``/who: is required``, not a message about ``(inputs)``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import SchemaError

from ._errors import TaskError, ValidationIssue, ValidationResult

Check = Callable[[Any], ValidationResult]


def compile_schema(schema: Mapping[str, Any], what: str) -> Check:
    """The check for one schema; a schema that is not valid 2020-12 is refused at once."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise TaskError(
            "spec_invalid",
            f"spec.{what} is not a valid JSON Schema (2020-12): {error.message}",
            fault="system",
            hint=f"fix spec.{what} at {pointer(error.absolute_path) or '(root)'}",
        ) from None
    validator = Draft202012Validator(schema)

    def check(value: Any) -> ValidationResult:
        issues: list[ValidationIssue] = []
        for error in validator.iter_errors(value):
            for issue in issues_of(error):
                if issue not in issues:
                    issues.append(issue)
        if not issues:
            return ValidationResult.valid()
        return ValidationResult(False, sorted(issues, key=lambda i: i.path))

    return check


def issues_of(error: ValidationError) -> list[ValidationIssue]:
    at = pointer(error.absolute_path)
    instance = error.instance
    required = error.validator_value
    if error.validator == "required" and isinstance(instance, Mapping) and isinstance(required, list):
        names = [n for n in required if n not in instance]
        return [ValidationIssue(f"{at}/{escape(n)}", "is required") for n in names]
    if error.validator == "additionalProperties" and isinstance(instance, Mapping):
        extras = _extra_properties(instance, error.schema)
        return [ValidationIssue(f"{at}/{escape(n)}", "is not allowed (not in the spec)") for n in extras]
    return [ValidationIssue(at, error.message)]


def _extra_properties(instance: Mapping[str, Any], schema: Any) -> list[str]:
    properties = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    patterns = schema.get("patternProperties", {}) if isinstance(schema, Mapping) else {}
    return [
        name
        for name in instance
        if name not in properties and not any(re.search(p, name) for p in patterns)
    ]


def pointer(path: Iterable[Any]) -> str:
    """RFC 6901: ``/a/0/b``; ``""`` is the value itself."""
    return "".join(f"/{escape(str(part))}" for part in path)


def escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def describe_issues(errors: Iterable[ValidationIssue], root: str = "(inputs)") -> str:
    """``/a/b: is required; /c: 5 is not of type 'string'`` (the value itself is ``(inputs)``)."""
    return "; ".join(f"{e.path or root}: {e.message}" for e in errors)
