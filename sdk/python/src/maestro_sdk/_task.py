"""``define_task`` (and the ``@task`` decorator): a task as one value. Its ``spec`` holds two
JSON Schemas (2020-12): ``inputs`` (the manifest's ``with:``) and ``outputs`` (an object, one
property per output). Lifecycle: ``init(ctx)`` → the spec's check and then ``validate(inputs)``
→ ``execute(inputs, ctx)`` → the outputs checked against ``spec.outputs``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._errors import TaskError, ValidationResult
from ._schema import Check, compile_schema
from ._typed import check_dataclass

if TYPE_CHECKING:
    from ._context import Context

I = TypeVar("I")

Execute = Callable[[I, "Context"], Any]


@dataclass(frozen=True)
class Task(Generic[I]):
    name: str
    version: str
    spec: Mapping[str, Any]
    execute: Execute[I]
    init: Callable[[Context], None] | None = None
    validate: Callable[[I], ValidationResult] | None = None
    inputs_type: type[I] | None = None
    outputs_type: type | None = None
    description: str | None = None
    check_inputs: Check = lambda _: ValidationResult.valid()  # replaced by define_task
    check_outputs: Check = lambda _: ValidationResult.valid()

    def declares_output(self, name: str) -> bool:
        """One of ``spec.outputs.properties``, or any name when the spec says outright that other
        names are allowed (``additionalProperties`` a schema or true); an absent
        ``additionalProperties`` does not open the set: outputs feed other tasks' templates."""
        outputs = self.spec["outputs"]
        if name in outputs.get("properties", {}):
            return True
        extra = outputs.get("additionalProperties")
        return extra is True or isinstance(extra, Mapping)


def define_task(
    *,
    name: str,
    version: str,
    spec: Mapping[str, Any],
    execute: Execute[I],
    init: Callable[[Context], None] | None = None,
    validate: Callable[[I], ValidationResult] | None = None,
    inputs: type[I] | None = None,
    outputs: type | None = None,
    description: str | None = None,
) -> Task[I]:
    """Checks the spec (and the dataclasses against it) now, at import, not when a run starts."""
    for part in ("inputs", "outputs"):
        if not isinstance(spec.get(part), Mapping):
            raise TaskError(
                "spec_invalid",
                f"{name}: spec.{part} must be a JSON Schema object",
                fault="system",
                hint='spec = {"inputs": {...}, "outputs": {"type": "object", "properties": {...}}}',
            )
    if spec["outputs"].get("type") != "object":
        raise TaskError(
            "spec_invalid",
            f'{name}: spec.outputs must be an object schema ("type": "object"), one property per output',
            fault="system",
        )
    if inputs is not None:
        check_dataclass(inputs, spec["inputs"], "inputs")
    if outputs is not None:
        check_dataclass(outputs, spec["outputs"], "outputs")
    return Task(
        name=name,
        version=version,
        spec=spec,
        execute=execute,
        init=init,
        validate=validate,
        inputs_type=inputs,
        outputs_type=outputs,
        description=description,
        check_inputs=compile_schema(spec["inputs"], "inputs"),
        check_outputs=compile_schema(spec["outputs"], "outputs"),
    )


def task(
    *,
    name: str,
    version: str,
    spec: Mapping[str, Any],
    init: Callable[[Context], None] | None = None,
    validate: Callable[[I], ValidationResult] | None = None,
    inputs: type[I] | None = None,
    outputs: type | None = None,
    description: str | None = None,
) -> Callable[[Execute[I]], Task[I]]:
    """``define_task`` as a decorator of ``execute``: ``@task(name=…, version=…, spec=…)``."""

    def wrap(execute: Execute[I]) -> Task[I]:
        return define_task(
            name=name,
            version=version,
            spec=spec,
            execute=execute,
            init=init,
            validate=validate,
            inputs=inputs,
            outputs=outputs,
            description=description or (execute.__doc__ or "").strip() or None,
        )

    return wrap
