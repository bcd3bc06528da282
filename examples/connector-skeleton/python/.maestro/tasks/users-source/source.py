"""A source connector on the Python SDK: copy this folder to .maestro/tasks/<name>/ of your
repository, replace fake_api.py with your client, and keep the four operations (spec, check,
discover, read). ``pytest`` here runs test_source.py; the workflow runs check, discover and read."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # fake_api beside this file

from fake_api import FakeApi  # noqa: E402
from maestro_sdk import ConnectionStatus, ConnectorContext, SourceContext, define_source, run_main  # noqa: E402

CONFIG = {
    "type": "object",
    "required": ["file", "token"],
    "additionalProperties": False,
    "properties": {
        "file": {"type": "string", "minLength": 1, "description": "The fake API's data, in the workspace"},
        # A secret: never in with:, from env: through configSecrets; masked in every report.
        "token": {"type": "string", "airbyte_secret": True, "description": "The API token"},
        "pageSize": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
    },
}

USERS = {
    "name": "users",
    "json_schema": {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "updated_at": {"type": "string"}},
    },
    "supported_sync_modes": ["full_refresh", "incremental"],
    "source_defined_cursor": True,
    "default_cursor_field": ["id"],
    "source_defined_primary_key": [["id"]],
}


@dataclass(frozen=True)
class UsersConfig:
    """The config, typed: checked against CONFIG when the connector is defined."""

    file: str
    token: str
    pageSize: int = 50  # noqa: N815 (the config's own name)


def _api(config: UsersConfig, ctx: ConnectorContext) -> FakeApi:
    path = os.path.join(ctx.workspace, config.file)
    return FakeApi(path, config.token)


def check(config: UsersConfig, ctx: ConnectorContext) -> ConnectionStatus:
    # Raising is a failed check too (the task succeeds; its status output says failed).
    return ConnectionStatus.succeeded(f"connected as {_api(config, ctx).whoami()}")


def discover(config: UsersConfig, ctx: ConnectorContext) -> dict[str, Any]:
    return {"streams": [USERS]}


def read(config: UsersConfig, catalog: Mapping[str, Any], state: Mapping[str, Any], ctx: SourceContext) -> None:
    api = _api(config, ctx)
    for configured in catalog["streams"]:
        if configured["stream"]["name"] != "users":
            continue
        # Where the last checkpoint left off (a retry), else the start.
        incremental = configured["sync_mode"] == "incremental"
        after = int((state.get("users") or {}).get("after", 0)) if incremental else 0
        ctx.emit.log(f"reading users after id {after}")
        while True:
            ctx.cancel.raise_if_cancelled()  # cancel and the task's timeout arrive here
            page = api.page(after, config.pageSize)
            if not page:
                break
            for user in page:
                ctx.emit.record("users", user)
            after = page[-1]["id"]
            # The commit rule: checkpoint once the page's records are emitted, never before.
            ctx.checkpoint("users", {"after": after})
            ctx.heartbeat()


users_source = define_source(
    name="users-source",
    version="1.0.0",
    description="Reads the users of a paginated API, incrementally on their id.",
    spec={"config": CONFIG},
    config=UsersConfig,
    check=check,
    discover=discover,
    read=read,
)

if __name__ == "__main__":
    raise SystemExit(run_main(users_source, os.environ))
