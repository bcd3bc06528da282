"""The connector's unit tests, on the SDK's harness (run_task): the same lifecycle the runner
starts, in-process. The token comes from a secret, as on a runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from source import users_source

from maestro_sdk import run_task

DATA = Path(__file__).resolve().parents[3] / "data" / "users.json"
GIVEN = {"config": {"file": "data/users.json", "pageSize": 50}, "configSecrets": {"/token": "USERS_TOKEN"}}


def run(operation: str, workspace: Path, token: str = "demo-token", **options: Any) -> Any:
    (workspace / "data").mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA, workspace / "data" / "users.json")
    return run_task(users_source, {"operation": operation, **GIVEN}, secrets={"USERS_TOKEN": token}, workspace=str(workspace), **options)


def test_check_accepts_the_token_and_reports_a_refused_one(tmp_path: Path) -> None:
    assert run("check", tmp_path).outputs == {"status": "succeeded", "message": "connected as demo"}
    refused = run("check", tmp_path, token="wrong-token")
    assert refused.outcome == "succeeded"
    assert refused.outputs["status"] == "failed"
    assert "wrong-token" not in json.dumps(refused.messages)


def test_discover_names_the_users_stream(tmp_path: Path) -> None:
    catalog = run("discover", tmp_path).outputs["catalog"]
    assert [s["name"] for s in catalog["streams"]] == ["users"]


def test_read_pages_through_every_user_and_resumes_from_a_checkpoint(tmp_path: Path) -> None:
    result = run("read", tmp_path)
    assert result.outputs == {"records": 120, "recordsFile": "records.ndjson", "streams": {"users": 120}}
    assert [s["streams"]["users"]["after"] for s in result.states] == [50, 100, 120]
    # A retry (in a fresh workspace, as on another runner) starts after the checkpoint's cursor.
    retried = run("read", tmp_path / "retry", state=result.states[0])
    assert retried.outputs["records"] == 70
    assert retried.logs[1].message == "reading users after id 50"
