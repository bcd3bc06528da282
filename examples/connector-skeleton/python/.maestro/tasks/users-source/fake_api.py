"""The peer this skeleton reads: a paginated "API" over a JSON file of the workspace, so the
sample runs offline. Replace it with your client (an HTTP session, a database driver, ...); keep
its shape: a page of rows after a cursor, and a refusal that names no credential."""

from __future__ import annotations

import json
from typing import Any

#: The token the fake API accepts (a real API checks its own).
DEMO_TOKEN = "demo-token"


class ApiError(Exception):
    pass


class FakeApi:
    def __init__(self, file: str, token: str) -> None:
        with open(file, encoding="utf-8") as data:
            self._users: list[dict[str, Any]] = json.load(data)["users"]
        self._token = token

    def whoami(self) -> str:
        if self._token != DEMO_TOKEN:
            raise ApiError("401 Unauthorized: the token was refused")
        return "demo"

    def page(self, after: int, size: int) -> list[dict[str, Any]]:
        """Up to ``size`` users with an id above ``after``, in id order."""
        self.whoami()
        return [u for u in self._users if u["id"] > after][:size]
