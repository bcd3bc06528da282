"""``define_source``: a source connector (Airbyte's shape) as a task, as the TypeScript SDK's
``defineSource``: ``operation`` picks ``spec``, ``check(config, ctx)`` (outputs ``status`` and
``message``), ``discover(config, ctx)`` (outputs the ``catalog``) or ``read(config, catalog,
state, ctx)``, which writes records to an NDJSON file of the workspace (``records``, default
``records.ndjson``) and checkpoints per-stream state through the protocol's ``state``, so a retry
resumes from the last checkpoint."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from ._connector import (
    CATALOG_SCHEMA,
    CONFIGURED_CATALOG_SCHEMA,
    ConnectorContext,
    ConnectorEmit,
    ConnectorRun,
    check_outputs,
    configure_all,
    config_schema_of,
    connector_task,
    spec_outputs,
    stream_unknown,
)
from ._context import Context
from ._errors import TaskError
from ._records import RecordsWriter
from ._schema import compile_schema, describe_issues
from ._task import Task
from ._workspace import workspace_file

C = TypeVar("C")

SOURCE_OPERATIONS = ("spec", "check", "discover", "read")

SOURCE_OUTPUTS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "status": {"enum": ["succeeded", "failed"]},
        "message": {"type": "string"},
        "spec": {"type": "object"},
        "catalog": CATALOG_SCHEMA,
        "records": {"type": "integer", "minimum": 0},
        "recordsFile": {"type": "string"},
        "streams": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
}


class SourceEmit(ConnectorEmit):
    def __init__(self, ctx: Context, secrets: list[str], record: Callable[[str, Mapping[str, Any]], None]) -> None:
        super().__init__(ctx, secrets)
        self._record = record

    def record(self, stream: str, data: Mapping[str, Any]) -> None:
        """One record of a configured stream, appended to the records file."""
        self._record(stream, data)


class SourceContext(ConnectorContext):
    emit: SourceEmit

    def __init__(self, run: ConnectorRun, reader: _Reader) -> None:
        super().__init__(run.ctx, run.secrets)
        self.emit = SourceEmit(run.ctx, run.secrets, reader.record)
        self._reader = reader

    def checkpoint(self, stream: str, state: Any) -> None:
        """The stream's state after the records emitted so far (call it once they are read): the
        records before it are made durable first, and a retry's ``read`` gets it back."""
        self._reader.checkpoint(stream, state)


Check = Callable[[Any, ConnectorContext], Any]
Discover = Callable[[Any, ConnectorContext], Mapping[str, Any]]
Read = Callable[[Any, Mapping[str, Any], Mapping[str, Any], SourceContext], None]


class _Reader:
    def __init__(self, name: str, catalog: Mapping[str, Any], run: ConnectorRun, writer: RecordsWriter, states: dict[str, Any]) -> None:
        self.name, self.run, self.writer, self.states = name, run, writer, states
        self.configured = [s["stream"]["name"] for s in catalog["streams"]]
        self.counts: dict[str, int] = {n: 0 for n in self.configured}

    def _known(self, stream: str, what: str) -> None:
        if stream not in self.configured:
            raise stream_unknown(self.name, what, stream, self.configured)

    def record(self, stream: str, data: Mapping[str, Any]) -> None:
        self._known(stream, "emitted a record of")
        if not isinstance(data, Mapping):
            raise TaskError("record_invalid", f"{self.name} emitted a record of {stream} that is not an object", fault="system")
        self.writer.append({"stream": stream, "data": dict(data), "emitted_at": int(self.run.ctx.clock.now() * 1000)})
        self.counts[stream] = self.counts.get(stream, 0) + 1

    def checkpoint(self, stream: str, state: Any) -> None:
        self._known(stream, "checkpointed")
        self.states[stream] = state
        checkpoint = {"streams": dict(self.states), "records_bytes": self.writer.commit()}
        self.run.ctx.emit.state(self.run.mask(checkpoint))


def define_source(
    *,
    name: str,
    version: str,
    spec: Mapping[str, Any],
    check: Check,
    discover: Discover,
    read: Read,
    config: type[C] | None = None,
    description: str | None = None,
    documentation_url: str | None = None,
) -> Task[Any]:
    """``spec = {"config": <JSON Schema>}``; ``config=`` a dataclass checked against it now, into
    which the checked config is built (``airbyte_secret: True`` marks a secret property)."""
    config_schema = config_schema_of(name, spec)
    check_catalog = compile_schema(CATALOG_SCHEMA, "catalog")

    def discovered(cfg: Any, run: ConnectorRun) -> Mapping[str, Any]:
        catalog = discover(cfg, run.connector)
        checked = check_catalog(catalog)
        if not checked.ok:
            raise TaskError(
                "catalog_invalid",
                f"{name}'s discover returned an invalid catalog: {describe_issues(checked.errors, '(catalog)')}",
                fault="system",
                hint='return {"streams": [{"name": ..., "json_schema": {...}, "supported_sync_modes": [...]}]}',
            )
        return catalog

    def run(operation: str, inputs: dict[str, Any], cfg: Any, run: ConnectorRun) -> Mapping[str, Any]:
        if operation == "spec":
            return spec_outputs(config_schema, documentation_url)
        if operation == "check":
            return check_outputs(name, lambda: check(cfg, run.connector), run)
        if operation == "discover":
            catalog = discovered(cfg, run)
            names = ", ".join(s["name"] for s in catalog["streams"])
            run.connector.emit.log(f"discovered {len(catalog['streams'])} stream(s): {names}")
            return {"catalog": catalog}
        catalog = inputs.get("catalog") or configure_all(discovered(cfg, run))
        return _read(name, read, cfg, catalog, inputs.get("records") or "records.ndjson", run)

    return connector_task(
        name=name,
        version=version,
        description=description,
        config_schema=config_schema,
        config_type=config,
        operations=SOURCE_OPERATIONS,
        inputs={
            "catalog": {**CONFIGURED_CATALOG_SCHEMA, "description": "read: the streams to read (default: every discovered one)"},
            "records": {"type": "string", "minLength": 1, "description": "read: the NDJSON file to write, in the workspace"},
        },
        outputs=SOURCE_OUTPUTS,
        run=run,
    )


def _read(name: str, read: Read, cfg: Any, catalog: Mapping[str, Any], path: str, run: ConnectorRun) -> dict[str, Any]:
    start = _resume_from(run.ctx.state, run.connector)
    writer = RecordsWriter(workspace_file(run.ctx.workspace, path, "/records"), None if start is None else start["records_bytes"])
    if start is not None and not writer.resumed:
        run.connector.emit.log(f"resuming from a checkpoint; {path} starts anew (the records before it are in the earlier attempt's file)")
    elif start is not None:
        run.connector.emit.log(f"resuming from a checkpoint: {path} cut back to its {start['records_bytes']} committed bytes")
    reader = _Reader(name, catalog, run, writer, dict(start["streams"]) if start else {})
    try:
        read(cfg, catalog, MappingProxyType(dict(reader.states)), SourceContext(run, reader))
        writer.commit()
    finally:
        writer.close()
    run.ctx.emit.artifact(path)
    total = sum(reader.counts.values())
    run.connector.emit.log(f"read {total} record(s) into {path}")
    return {"records": total, "recordsFile": path, "streams": reader.counts}


def _resume_from(state: Any, connector: ConnectorContext) -> dict[str, Any] | None:
    if state is None:
        return None
    size = state.get("records_bytes") if isinstance(state, Mapping) else None
    if isinstance(state, Mapping) and isinstance(state.get("streams"), Mapping) and type(size) is int and size >= 0:
        return {"streams": state["streams"], "records_bytes": size}
    connector.emit.log("the checkpoint handed in is not a source checkpoint ({ streams, records_bytes }); reading from the start", "warn")
    return None
