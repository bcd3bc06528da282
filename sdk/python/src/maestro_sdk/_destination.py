"""``define_destination``: a destination connector (Airbyte's shape) as a task, as the
TypeScript SDK's ``defineDestination``: ``spec`` and ``check`` as for a source; ``write(config,
catalog, records, ctx)`` is handed the records of a source's NDJSON file (``records`` in the
workspace, or ``artifact``, ``<task>/<path>`` of ``$MAESTRO_ARTIFACTS``) as an iterator.
``ctx.checkpoint()`` says every record handed so far is written: a retry starts after them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from ._connector import (
    CONFIGURED_CATALOG_SCHEMA,
    ConnectorContext,
    ConnectorRun,
    check_outputs,
    config_schema_of,
    connector_task,
    spec_outputs,
    stream_unknown,
)
from ._errors import TaskError, ValidationIssue
from ._records import read_records
from ._task import Task
from ._workspace import workspace_file

C = TypeVar("C")

DESTINATION_OPERATIONS = ("spec", "check", "write")

DESTINATION_OUTPUTS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"enum": ["succeeded", "failed"]},
        "message": {"type": "string"},
        "spec": {"type": "object"},
        "records": {"type": "integer", "minimum": 0},
    },
}


class DestinationContext(ConnectorContext):
    def __init__(self, run: ConnectorRun, commit: Callable[[], None]) -> None:
        super().__init__(run.ctx, run.secrets)
        self._commit = commit

    def checkpoint(self) -> None:
        """Every record handed to ``write`` so far is written (the commit rule)."""
        self._commit()


Write = Callable[[Any, "Mapping[str, Any] | None", Iterator[dict[str, Any]], DestinationContext], None]


def define_destination(
    *,
    name: str,
    version: str,
    spec: Mapping[str, Any],
    check: Callable[[Any, ConnectorContext], Any],
    write: Write,
    config: type[C] | None = None,
    description: str | None = None,
    documentation_url: str | None = None,
) -> Task[Any]:
    config_schema = config_schema_of(name, spec)

    def validate(given: Mapping[str, Any]) -> list[ValidationIssue]:
        named = [k for k in ("records", "artifact") if k in given]
        if given["operation"] == "write" and len(named) != 1:
            return [ValidationIssue("/records", "write needs exactly one of records and artifact")]
        return []

    def run(operation: str, inputs: dict[str, Any], cfg: Any, run: ConnectorRun) -> Mapping[str, Any]:
        if operation == "spec":
            return spec_outputs(config_schema, documentation_url)
        if operation == "check":
            return check_outputs(name, lambda: check(cfg, run.connector), run)
        return _write(write, cfg, inputs, run)

    return connector_task(
        name=name,
        version=version,
        description=description,
        config_schema=config_schema,
        config_type=config,
        operations=DESTINATION_OPERATIONS,
        inputs={
            "catalog": {**CONFIGURED_CATALOG_SCHEMA, "description": "write: the streams to accept (default: every record's)"},
            "records": {"type": "string", "minLength": 1, "description": "write: the NDJSON records file, in the workspace"},
            "artifact": {"type": "string", "minLength": 1, "description": "write: the records file as <task>/<path> of a needed task's artifacts"},
        },
        outputs=DESTINATION_OUTPUTS,
        run=run,
        validate=validate,
    )


def _write(write: Write, cfg: Any, inputs: Mapping[str, Any], run: ConnectorRun) -> dict[str, Any]:
    ctx = run.ctx
    field = "/records" if "records" in inputs else "/artifact"
    path = _records_path(ctx.workspace, ctx.artifacts_dir, inputs)
    catalog = inputs.get("catalog")
    streams = {s["stream"]["name"] for s in catalog["streams"]} if catalog else None
    skip = _resume_at(ctx.state, run.connector)
    progress = {"handed": skip, "count": 0}

    def records() -> Iterator[dict[str, Any]]:
        for line, record in read_records(path, skip, field):
            if streams is not None and record["stream"] not in streams:
                raise stream_unknown(f"line {line}:", "has a record of", record["stream"], streams)
            progress["handed"] = line
            progress["count"] += 1
            yield record

    def commit() -> None:
        ctx.emit.state({"lines": progress["handed"]})

    write(cfg, catalog, records(), DestinationContext(run, commit))
    after = f" after line {skip} (the checkpoint)" if skip > 0 else ""
    run.connector.emit.log(f"wrote {progress['count']} record(s){after}")
    return {"records": progress["count"]}


def _records_path(workspace: str, artifacts_dir: str | None, inputs: Mapping[str, Any]) -> str:
    if "records" in inputs:
        return workspace_file(workspace, inputs["records"], "/records")
    if not artifacts_dir:
        raise TaskError(
            "artifact_missing",
            f"/artifact: no artifacts were handed to this task ({inputs.get('artifact')})",
            hint="list the source's task in needs: and its records file in that task's artifacts:",
        )
    return workspace_file(artifacts_dir, inputs["artifact"], "/artifact")


def _resume_at(state: Any, connector: ConnectorContext) -> int:
    if state is None:
        return 0
    lines = state.get("lines") if isinstance(state, Mapping) else None
    if type(lines) is int and lines >= 0:
        return lines
    connector.emit.log("the checkpoint handed in is not a destination checkpoint ({ lines }); writing from the start", "warn")
    return 0
