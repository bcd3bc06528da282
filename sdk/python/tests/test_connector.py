"""Connectors on the Python SDK: define_source and define_destination, through the same harness
(run_task) as any task. A fake paginated API stands for the source's peer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from maestro_sdk import (
    CancelToken,
    ConnectionStatus,
    ConnectorContext,
    DestinationContext,
    SourceContext,
    TaskError,
    ValidationIssue,
    define_destination,
    define_source,
    run_task,
)

KEY = "sk-live-4f9a2c7e1b"
SECRETS = {"USERS_API_KEY": KEY}
GIVEN = {"config": {"total": 1000}, "configSecrets": {"/apiKey": "USERS_API_KEY"}}
CONFIG = {
    "type": "object",
    "required": ["apiKey", "total"],
    "additionalProperties": False,
    "properties": {"apiKey": {"type": "string", "airbyte_secret": True}, "total": {"type": "integer", "minimum": 0}},
}
STREAM = {
    "name": "users",
    "json_schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
    "supported_sync_modes": ["full_refresh", "incremental"],
    "source_defined_cursor": True,
    "default_cursor_field": ["id"],
}


@dataclass(frozen=True)
class UsersConfig:
    apiKey: str  # noqa: N815 (the config's own property name)
    total: int


def api(total: int, fail_at: int | None = None) -> Any:
    """A paginated API, 100 users a page; the page holding ``fail_at`` breaks once, mid-page."""
    state = {"failed": False}

    def page(after: int) -> Iterator[dict[str, Any]]:
        for i in range(after + 1, min(total, after + 100) + 1):
            if i == fail_at and not state["failed"]:
                state["failed"] = True
                raise RuntimeError(f"the API went away at user {fail_at} (key {KEY})")
            yield {"id": i, "name": f"user {i}"}

    return page


def users(page: Any) -> Any:
    def check(config: UsersConfig, ctx: ConnectorContext) -> ConnectionStatus:
        if config.apiKey != KEY:
            raise RuntimeError(f"401: key {config.apiKey} refused")
        return ConnectionStatus.succeeded(f"key {config.apiKey} accepted")

    def read(config: UsersConfig, catalog: Any, state: Any, ctx: SourceContext) -> None:
        after = (state.get("users") or {}).get("after", 0)
        ctx.emit.log(f"reading after {after} with {config.apiKey}")
        while True:
            ctx.cancel.raise_if_cancelled()
            last = after
            for row in page(after):
                ctx.emit.record("users", row)
                last = row["id"]
            if last == after:
                return
            after = last
            ctx.checkpoint("users", {"after": after, "token": config.apiKey})
            ctx.heartbeat()

    return define_source(
        name="users",
        version="1.0.0",
        spec={"config": CONFIG},
        config=UsersConfig,
        check=check,
        discover=lambda config, ctx: {"streams": [STREAM]},
        read=read,
    )


def run(task: Any, inputs: dict[str, Any], **options: Any) -> Any:
    options.setdefault("secrets", SECRETS)
    return run_task(task, {**GIVEN, **inputs}, **options)


def ids(path: Path) -> list[int]:
    return [json.loads(line)["data"]["id"] for line in path.read_text().splitlines()]


def test_spec_needs_no_config_and_the_rest_do_each_problem_with_its_path() -> None:
    source = users(api(0))
    spec = run_task(source, {"operation": "spec"})
    assert spec.outcome == "succeeded"
    assert spec.outputs["spec"]["connectionSpecification"]["required"] == ["apiKey", "total"]
    assert run_task(source, {"operation": "check"}).errors == [ValidationIssue("/config", "is required")]
    wrong = run(source, {"operation": "read", "config": {"total": "x", "extra": 1}})
    assert [e.path for e in wrong.errors] == ["/config/extra", "/config/total"]


def test_a_secret_in_with_is_refused_before_any_code_runs() -> None:
    # The attack: the key pasted into with:, which is stored with the plan.
    inline = run_task(users(api(0)), {"operation": "check", "config": {"apiKey": KEY, "total": 1}})
    assert inline.outcome == "invalid"
    assert [e.path for e in inline.errors] == ["/config/apiKey"]
    assert "never in with:" in inline.errors[0].message
    not_secret = run(users(api(0)), {"operation": "check", "configSecrets": {"/total": "T"}})
    assert not_secret.errors == [ValidationIssue("/configSecrets/~1total", "is not a secret property of the config (/apiKey)")]
    missing = run_task(users(api(0)), {"operation": "check", "config": {"total": 1}})
    assert isinstance(missing.error, TaskError) and missing.error.code == "config_invalid"
    assert str(missing.error) == "users: /config/apiKey: is required"


def test_check_reports_its_status_as_outputs_with_the_secret_masked() -> None:
    ok = run(users(api(0)), {"operation": "check"})
    assert ok.outputs == {"status": "succeeded", "message": "key *** accepted"}
    refused = run(users(api(0)), {"operation": "check"}, secrets={"USERS_API_KEY": "wrong-key-77"})
    assert refused.outcome == "succeeded"
    assert refused.outputs == {"status": "failed", "message": "401: key *** refused"}
    assert "wrong-key-77" not in json.dumps(refused.messages)


def test_discover_outputs_the_catalog_and_refuses_an_invalid_one() -> None:
    assert run(users(api(0)), {"operation": "discover"}).outputs["catalog"]["streams"] == [STREAM]
    broken = define_source(
        name="broken",
        version="1.0.0",
        spec={"config": {"type": "object"}},
        check=lambda c, ctx: ConnectionStatus.succeeded(),
        discover=lambda c, ctx: {"streams": [{"name": "x"}]},
        read=lambda c, cat, s, ctx: None,
    )
    failed = run_task(broken, {"operation": "discover", "config": {}})
    assert isinstance(failed.error, TaskError) and failed.error.code == "catalog_invalid"
    assert "/streams/0/json_schema: is required" in str(failed.error)


def test_read_writes_records_and_checkpoints_per_stream(tmp_path: Path) -> None:
    result = run(users(api(250)), {"operation": "read", "records": "out/users.ndjson"}, workspace=str(tmp_path))
    assert result.outcome == "succeeded", result.error
    assert result.outputs == {"records": 250, "recordsFile": "out/users.ndjson", "streams": {"users": 250}}
    assert result.artifacts == ["out/users.ndjson"]
    assert ids(tmp_path / "out/users.ndjson") == list(range(1, 251))
    assert [s["streams"]["users"] for s in result.states] == [
        {"after": 100, "token": "***"},
        {"after": 200, "token": "***"},
        {"after": 250, "token": "***"},
    ]
    assert KEY not in json.dumps(result.messages)


def test_a_read_failing_at_600_of_1000_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    page = api(1000, fail_at=600)
    first = run(users(page), {"operation": "read"}, workspace=str(tmp_path))
    assert first.outcome == "failed"
    assert str(first.error) == "the API went away at user 600 (key ***)"
    last = first.states[-1]
    assert last["streams"]["users"]["after"] == 500
    assert ids(tmp_path / "records.ndjson")[-1] == 599  # after the checkpoint: not committed
    retry = run(users(page), {"operation": "read"}, workspace=str(tmp_path), state=last)
    assert retry.outcome == "succeeded", retry.error
    assert retry.outputs["records"] == 500
    assert ids(tmp_path / "records.ndjson") == list(range(1, 1001))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    elsewhere = run(users(api(1000)), {"operation": "read"}, workspace=str(fresh), state=last)
    assert ids(fresh / "records.ndjson")[0] == 501
    assert "starts anew" in elsewhere.logs[0].message


def test_a_foreign_checkpoint_is_said_and_the_read_starts_over(tmp_path: Path) -> None:
    (tmp_path / "records.ndjson").write_text("stale\n" * 5)
    result = run(users(api(3)), {"operation": "read"}, workspace=str(tmp_path), state={"cursor": 9})
    assert result.logs[0].level == "warn"
    assert ids(tmp_path / "records.ndjson") == [1, 2, 3]


def test_unknown_streams_paths_out_of_the_workspace_and_cancel(tmp_path: Path) -> None:
    unknown = run(users(api(3)), {"operation": "read", "catalog": {"streams": []}}, workspace=str(tmp_path))
    assert isinstance(unknown.error, TaskError) and unknown.error.code == "stream_unknown"
    out = run(users(api(3)), {"operation": "read", "records": "../x.ndjson"}, workspace=str(tmp_path))
    assert isinstance(out.error, TaskError) and out.error.code == "path_outside_workspace"
    cancel = CancelToken()
    page = api(1000)

    def cancelling(after: int) -> Iterator[dict[str, Any]]:
        if after == 200:
            cancel.cancel("SIGTERM")
        yield from page(after)

    cancelled = run(users(cancelling), {"operation": "read"}, workspace=str(tmp_path), cancel=cancel)
    assert cancelled.outcome == "cancelled"
    assert len(cancelled.states) == 3


def test_the_config_dataclass_must_match_the_config_schema() -> None:
    @dataclass(frozen=True)
    class Wrong:
        apiKey: str  # noqa: N815

    with pytest.raises(TaskError, match="property 'total' has no field"):
        define_source(
            name="x",
            version="1",
            spec={"config": CONFIG},
            config=Wrong,
            check=lambda c, ctx: None,
            discover=lambda c, ctx: {"streams": []},
            read=lambda c, cat, s, ctx: None,
        )
    with pytest.raises(TaskError, match="spec.config must be an object schema"):
        define_source(name="x", version="1", spec={}, check=print, discover=print, read=print)  # type: ignore[arg-type]


def warehouse(table: list[dict[str, Any]], fail_after: int | None = None) -> Any:
    state = {"failed": False}

    def write(config: Any, catalog: Any, records: Iterator[dict[str, Any]], ctx: DestinationContext) -> None:
        pending: list[dict[str, Any]] = []
        for record in records:
            if len(table) + len(pending) == fail_after and not state["failed"]:
                state["failed"] = True
                raise RuntimeError(f"connection lost (password {config['password']})")
            pending.append(record)
            if len(pending) == 2:
                table.extend(pending)  # the commit, then the checkpoint
                pending = []
                ctx.checkpoint()
        table.extend(pending)

    return define_destination(
        name="warehouse",
        version="1.0.0",
        spec={"config": {"type": "object", "required": ["password"], "properties": {"password": {"type": "string", "airbyte_secret": True}}}},
        check=lambda config, ctx: {"status": "succeeded"},
        write=write,
    )


def test_a_destination_writes_a_records_file_and_resumes_after_its_checkpoint(tmp_path: Path) -> None:
    lines = [json.dumps({"stream": "users", "data": {"id": i}, "emitted_at": 0}) for i in range(1, 8)]
    (tmp_path / "records.ndjson").write_text("\n".join(lines) + "\n")
    given = {"operation": "write", "config": {}, "configSecrets": {"/password": "PW"}, "records": "records.ndjson"}
    table: list[dict[str, Any]] = []
    first = run_task(warehouse(table, 4), given, secrets={"PW": "hunter2-long"}, workspace=str(tmp_path))
    assert first.outcome == "failed"
    assert str(first.error) == "connection lost (password ***)"
    assert first.states == [{"lines": 2}, {"lines": 4}]
    retry = run_task(warehouse(table), given, secrets={"PW": "hunter2-long"}, workspace=str(tmp_path), state=first.states[-1])
    assert retry.outputs == {"records": 3}
    assert [r["data"]["id"] for r in table] == [1, 2, 3, 4, 5, 6, 7]
    assert retry.logs[-1].message == "wrote 3 record(s) after line 4 (the checkpoint)"


def test_a_destination_needs_one_records_file_and_names_a_bad_one(tmp_path: Path) -> None:
    base = {"operation": "write", "config": {}, "configSecrets": {"/password": "PW"}}
    neither = run_task(warehouse([]), base, secrets={"PW": "p"})
    assert neither.errors == [ValidationIssue("/records", "write needs exactly one of records and artifact")]
    no_artifacts = run_task(warehouse([]), {**base, "artifact": "read/records.ndjson"}, secrets={"PW": "p"})
    assert isinstance(no_artifacts.error, TaskError) and no_artifacts.error.code == "artifact_missing"
    (tmp_path / "read").mkdir()
    (tmp_path / "read" / "records.ndjson").write_text('{"stream":"a","data":{}}\nnot json\n')
    bad = run_task(warehouse([]), {**base, "artifact": "read/records.ndjson"}, secrets={"PW": "p"}, artifacts_dir=str(tmp_path))
    assert str(bad.error) == "/artifact: line 2 is not JSON"
    catalog = {"streams": [{"stream": STREAM, "sync_mode": "full_refresh"}]}
    other = run_task(warehouse([]), {**base, "artifact": "read/records.ndjson", "catalog": catalog}, secrets={"PW": "p"}, artifacts_dir=str(tmp_path))
    assert isinstance(other.error, TaskError) and other.error.code == "stream_unknown"
    assert run_task(warehouse([]), {**base, "operation": "check"}, secrets={"PW": "p"}).outputs["status"] == "succeeded"
