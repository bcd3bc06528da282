"""What sources and destinations share (the TypeScript SDK's ``connector.ts`` and
``connector-protocol.ts``, in Python): a connector is a task whose ``operation`` input picks one
of Airbyte's commands, whose ``config`` is checked against the connector's config schema (its
secret properties from ``env:`` through ``configSecrets``), and whose code sees a context that
masks the config's secrets in everything it reports. The catalog, the configured catalog and the
records are plain JSON objects with Airbyte's snake_case names, the same on the wire as in
TypeScript."""

from __future__ import annotations

import json

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._cancel import CancelToken
from ._clock import Clock
from ._connector_secrets import (
    is_string_at,
    mask_text,
    mask_value,
    present_secrets,
    secret_pointers,
    secret_values,
    with_pointer,
    without_secret_required,
)
from ._context import Context, LogLevel
from ._errors import Cancelled, TaskError, ValidationIssue, ValidationResult
from ._schema import compile_schema, describe_issues
from ._task import Task, define_task
from ._typed import build, check_dataclass

_FIELD_PATH = {"type": "array", "items": {"type": "string"}}
_KEY_PATHS = {"type": "array", "items": _FIELD_PATH}
_SYNC_MODE = {"enum": ["full_refresh", "incremental"]}

STREAM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "json_schema", "supported_sync_modes"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "json_schema": {"type": "object"},
        "supported_sync_modes": {"type": "array", "items": _SYNC_MODE, "minItems": 1},
        "source_defined_cursor": {"type": "boolean"},
        "default_cursor_field": _FIELD_PATH,
        "source_defined_primary_key": _KEY_PATHS,
    },
}
CATALOG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["streams"],
    "properties": {"streams": {"type": "array", "items": STREAM_SCHEMA}},
}
CONFIGURED_CATALOG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["streams"],
    "additionalProperties": False,
    "properties": {
        "streams": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["stream", "sync_mode"],
                "additionalProperties": False,
                "properties": {
                    "stream": STREAM_SCHEMA,
                    "sync_mode": _SYNC_MODE,
                    "cursor_field": _FIELD_PATH,
                    "primary_key": _KEY_PATHS,
                    "destination_sync_mode": {"enum": ["append", "overwrite", "append_dedup"]},
                },
            },
        }
    },
}


@dataclass(frozen=True)
class ConnectionStatus:
    """What ``check`` returns (Airbyte's ``AirbyteConnectionStatus``); a dict of the same shape too."""

    status: Literal["succeeded", "failed"]
    message: str | None = None

    @classmethod
    def succeeded(cls, message: str | None = None) -> ConnectionStatus:
        return cls("succeeded", message)

    @classmethod
    def failed(cls, message: str) -> ConnectionStatus:
        return cls("failed", message)


def configure_all(catalog: Mapping[str, Any]) -> dict[str, Any]:
    """Every discovered stream, incremental where it can (on its default cursor), else full refresh."""
    streams = []
    for stream in catalog["streams"]:
        incremental = "incremental" in stream["supported_sync_modes"]
        configured: dict[str, Any] = {"stream": stream, "sync_mode": "incremental" if incremental else "full_refresh"}
        if incremental and stream.get("default_cursor_field"):
            configured["cursor_field"] = stream["default_cursor_field"]
        streams.append(configured)
    return {"streams": streams}


class ConnectorEmit:
    def __init__(self, ctx: Context, secrets: list[str]) -> None:
        self._ctx, self._secrets = ctx, secrets

    def log(self, message: str, level: LogLevel = "info") -> None:
        self._ctx.emit.log(mask_text(str(message), self._secrets), level)

    def metric(self, name: str, value: float, unit: str | None = None) -> None:
        self._ctx.emit.metric(mask_text(name, self._secrets), value, unit)

    def progress(self, done: float | None = None, total: float | None = None, message: str | None = None) -> None:
        self._ctx.emit.progress(done, total, None if message is None else mask_text(message, self._secrets))


class ConnectorContext:
    """What a connector's ``check``, ``discover``, ``read`` and ``write`` are handed."""

    emit: ConnectorEmit

    def __init__(self, ctx: Context, secrets: list[str]) -> None:
        self._ctx, self._secrets = ctx, secrets
        self.emit = ConnectorEmit(ctx, secrets)
        self.cancel: CancelToken = ctx.cancel
        self.clock: Clock = ctx.clock
        self.workspace: str = ctx.workspace
        self.artifacts_dir: str | None = ctx.artifacts_dir

    def sleep(self, seconds: float) -> None:
        self._ctx.sleep(seconds)

    def heartbeat(self) -> None:
        self._ctx.heartbeat()

    def secret(self, name: str) -> str:
        """A secret from ``env:``; its value is masked like the config's."""
        value = self._ctx.secret(name)
        if value and value not in self._secrets:
            self._secrets.append(value)
            self._secrets.sort(key=len, reverse=True)
        return value


@dataclass
class ConnectorRun:
    ctx: Context
    connector: ConnectorContext
    secrets: list[str]

    def mask(self, value: Any) -> Any:
        return mask_value(value, self.secrets)


Run = Callable[[str, dict[str, Any], Any, ConnectorRun], Mapping[str, Any]]


def connector_inputs(config: Mapping[str, Any], operations: tuple[str, ...], extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["operation"],
        "additionalProperties": False,
        "properties": {
            "operation": {"enum": list(operations), "description": "The connector's command (Airbyte's): spec needs no config"},
            "config": without_secret_required(config),
            "configSecrets": {
                "type": "object",
                "description": "Each secret property of config (a JSON Pointer, /apiKey) and the env: variable that holds it",
                "additionalProperties": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
            },
            **extra,
        },
        "if": {"properties": {"operation": {"const": "spec"}}},
        "else": {"required": ["config"]},
    }


def connector_task(
    *,
    name: str,
    version: str,
    description: str | None,
    config_schema: Mapping[str, Any],
    config_type: type | None,
    operations: tuple[str, ...],
    inputs: Mapping[str, Any],
    outputs: Mapping[str, Any],
    run: Run,
    validate: Callable[[Mapping[str, Any]], list[ValidationIssue]] | None = None,
) -> Task[Any]:
    if config_type is not None:
        check_dataclass(config_type, config_schema, "config")
    check_config = compile_schema(config_schema, "config")

    def checks(given: Any) -> ValidationResult:
        errors = [
            ValidationIssue(
                f"/config{p}",
                "is a secret (airbyte_secret): never in with:, which is stored with the plan; "
                "pass it in env: and name the variable in configSecrets",
            )
            for p in present_secrets(config_schema, given.get("config"))
        ]
        allowed = secret_pointers(config_schema)
        for pointer in given.get("configSecrets") or {}:
            if pointer not in allowed:
                at = pointer.replace("~", "~0").replace("/", "~1")
                errors.append(
                    ValidationIssue(f"/configSecrets/{at}", f"is not a secret property of the config ({', '.join(allowed) or 'it has none'})")
                )
        errors.extend(validate(given) if validate is not None and not errors else [])
        return ValidationResult(not errors, errors)

    def execute(given: Any, ctx: Context) -> Mapping[str, Any]:
        operation = given["operation"]
        config = None if operation == "spec" else _full_config(name, config_schema, given, ctx, check_config)
        secrets = secret_values(config_schema, config)
        connector = ConnectorRun(ctx, ConnectorContext(ctx, secrets), secrets)
        try:
            typed = None if config is None else build(config_type, config)
            return connector.mask(run(operation, {**given, "config": config}, typed, connector))  # type: ignore[no-any-return]
        except TaskError as error:
            raise _masked_task_error(error, secrets) from None
        except Exception as error:
            if not secrets:
                raise
            raise _masked_error(error, secrets) from None

    return define_task(
        name=name,
        version=version,
        description=description,
        spec={"inputs": connector_inputs(config_schema, operations, inputs), "outputs": outputs},
        execute=execute,
        validate=checks,
    )


def _masked_task_error(error: TaskError, secrets: list[str]) -> TaskError:
    if not secrets or isinstance(error, Cancelled):
        return error
    return TaskError(
        error.code,
        mask_text(error.message, secrets),
        fault=error.fault,
        retryable=error.retryable,
        hint=None if error.hint is None else mask_text(error.hint, secrets),
    )


def _masked_error(error: Exception, secrets: list[str]) -> Exception:
    """The same kind of error with the secrets masked from its message (its cause dropped)."""
    message = mask_text(str(error), secrets)
    try:
        return type(error)(message)
    except Exception:  # an exception type that takes other arguments
        return RuntimeError(message)


def _full_config(
    name: str, schema: Mapping[str, Any], given: Mapping[str, Any], ctx: Context, check: Callable[[Any], ValidationResult]
) -> dict[str, Any]:
    config: dict[str, Any] = dict(given.get("config") or {})
    for pointer, variable in (given.get("configSecrets") or {}).items():
        raw = ctx.secret(variable)
        value: Any = raw
        if not is_string_at(schema, pointer):
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw  # the config's check names what is wrong with it
        config = with_pointer(config, pointer, value)
    checked = check(config)
    if not checked.ok:
        problems = [ValidationIssue(f"/config{e.path}", e.message) for e in checked.errors]
        raise TaskError(
            "config_invalid",
            mask_text(f"{name}: {describe_issues(problems)}", secret_values(schema, config)),
            hint='a secret property of config comes from env: through configSecrets ({"/apiKey": "API_KEY"})',
        )
    return config


def check_outputs(name: str, check: Callable[[], Any], run: ConnectorRun) -> dict[str, Any]:
    """A check that raises is a failed check, not a failed task (as Airbyte's); cancel still cancels."""
    try:
        answer = check()
    except Exception as error:
        if run.ctx.cancel.cancelled:
            raise
        answer = ConnectionStatus.failed(str(error))
    if isinstance(answer, ConnectionStatus):
        answer = {"status": answer.status, "message": answer.message}
    status = answer.get("status") if isinstance(answer, Mapping) else None
    if status not in ("succeeded", "failed"):
        raise TaskError(
            "check_invalid",
            f"{name}'s check returned {answer!r}",
            fault="system",
            hint='return ConnectionStatus.succeeded() or ConnectionStatus.failed("why")',
        )
    message = answer.get("message") or ("connected" if status == "succeeded" else "check failed")
    run.connector.emit.log(f"check {status}: {message}", "warn" if status == "failed" else "info")
    return {"status": status, "message": message}


def spec_outputs(config: Mapping[str, Any], documentation_url: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"connectionSpecification": dict(config)}
    if documentation_url:
        spec = {"documentationUrl": documentation_url, **spec}
    return {"spec": spec}


def stream_unknown(name: str, what: str, stream: str, configured: set[str] | list[str]) -> TaskError:
    return TaskError(
        "stream_unknown",
        f"{name} {what} stream {stream!r}, which the catalog does not configure",
        fault="system",
        hint=f"read only the catalog's streams: {', '.join(sorted(configured))}",
    )


def config_schema_of(name: str, spec: Mapping[str, Any]) -> Mapping[str, Any]:
    config = spec.get("config")
    if not isinstance(config, Mapping) or config.get("type") != "object":
        raise TaskError(
            "spec_invalid",
            f'{name}: spec.config must be an object schema ("type": "object")',
            fault="system",
            hint='spec = {"config": {"type": "object", "properties": {...}}}',
        )
    return config
