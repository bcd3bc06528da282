from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest
from greet import SPEC

from maestro_sdk import TaskError, define_task, run_task


def define(**kwargs):
    return define_task(name="t", version="1", execute=lambda i, c: None, **kwargs)


def spec_error(**kwargs) -> str:
    with pytest.raises(TaskError) as caught:
        define(**kwargs)
    assert caught.value.code == "spec_invalid"
    return caught.value.message


def test_a_spec_that_is_not_a_json_schema_is_refused_when_defined():
    bad = {"inputs": {"type": "object", "properties": {"a": {"type": "strnig"}}}, "outputs": {"type": "object"}}
    assert "spec.inputs is not a valid JSON Schema" in spec_error(spec=bad)


def test_outputs_must_be_an_object_schema():
    assert "spec.outputs must be an object schema" in spec_error(spec={"inputs": {}, "outputs": {"type": "string"}})
    assert "spec.outputs must be a JSON Schema object" in spec_error(spec={"inputs": {}})


def test_the_inputs_dataclass_must_say_what_the_spec_says():
    @dataclass
    class Missing:
        who: str

    assert "property 'times' has no field" in spec_error(spec=SPEC, inputs=Missing)

    @dataclass
    class Extra:
        who: str
        times: int = 1
        pause: float = 0
        loud: bool = False

    assert "field Extra.loud is not a property" in spec_error(spec=SPEC, inputs=Extra)

    @dataclass
    class WrongType:
        who: int
        times: int = 1
        pause: float = 0

    assert "WrongType.who is int, but the spec says type 'string'" in spec_error(spec=SPEC, inputs=WrongType)

    @dataclass
    class RequiredWithDefault:
        who: str = "x"
        times: int = 1
        pause: float = 0

    assert "has a default, but spec.inputs requires it" in spec_error(spec=SPEC, inputs=RequiredWithDefault)

    @dataclass
    class OptionalWithoutDefault:
        who: str
        times: int
        pause: float = 0

    assert "times needs a default" in spec_error(spec=SPEC, inputs=OptionalWithoutDefault)

    @dataclass
    class BoolForInteger:
        who: str
        times: bool = False
        pause: float = 0

    assert "times is bool" in spec_error(spec=SPEC, inputs=BoolForInteger)


@dataclass
class Target:
    url: str
    tags: list[str] = field(default_factory=list)


@dataclass
class Nested:
    targets: list[Target]
    primary: Target | None = None


@dataclass
class BadPrimary:
    url: int
    tags: list[str] = field(default_factory=list)


@dataclass
class NestedBad:
    targets: list[Target]
    primary: BadPrimary | None = None


NESTED = {
    "inputs": {
        "type": "object",
        "required": ["targets"],
        "properties": {
            "targets": {"type": "array", "items": {"type": "object"}},
            "primary": {
                "type": "object",
                "required": ["url"],
                "properties": {"url": {"type": "string"}, "tags": {"type": "array"}},
            },
        },
    },
    "outputs": {"type": "object"},
}


def test_nested_dataclasses_are_checked_and_built():
    seen = []
    t = define_task(name="t", version="1", spec=NESTED, inputs=Nested, execute=lambda i, c: seen.append(i))
    run_task(t, {"targets": [{"url": "a"}], "primary": {"url": "b", "tags": ["x"]}})
    assert seen == [Nested(targets=[Target("a")], primary=Target("b", ["x"]))]
    assert "BadPrimary.url is int" in spec_error(spec=NESTED, inputs=NestedBad)


@dataclass
class Mode:
    mode: Literal["fast", "slow"] = "fast"


@dataclass
class BadMode:
    mode: Literal[1, 2] = 1


def test_a_literal_field_stands_for_an_enum_of_the_spec_type():
    spec = {"inputs": {"type": "object", "properties": {"mode": {"type": "string", "enum": ["fast", "slow"]}}}, "outputs": {"type": "object"}}
    seen = []
    t = define_task(name="t", version="1", spec=spec, inputs=Mode, execute=lambda i, c: seen.append(i))
    assert run_task(t, {"mode": "slow"}).outcome == "succeeded"
    assert seen == [Mode("slow")]
    assert run_task(t, {"mode": "medium"}).errors[0].path == "/mode"
    assert "BadMode.mode is typing.Literal[1, 2]" in spec_error(spec=spec, inputs=BadMode)


def test_annotations_that_cannot_be_resolved_are_a_spec_error():
    @dataclass
    class Local:
        who: Unknown  # noqa: F821
        times: int = 1
        pause: float = 0

    assert "annotations cannot be resolved" in spec_error(spec=SPEC, inputs=Local)


def test_the_decorator_takes_the_docstring_as_description():
    from maestro_sdk import task

    @task(name="t", version="1", spec=SPEC)
    def t(inputs, ctx):
        """Does a thing."""

    assert t.description == "Does a thing."
    assert t.name == "t"
