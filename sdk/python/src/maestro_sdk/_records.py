"""The records file of a connector: NDJSON, one ``{"stream", "data", "emitted_at"}`` per line. A
checkpoint first makes the records before it durable (written and fsynced) and records the
file's length, so a retry in the same workspace cuts the file back to exactly the committed
records, and a retry in a fresh workspace starts a new file. The TypeScript SDK's
``records-file.ts``, in Python."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import IO, Any

from ._errors import TaskError


class RecordsWriter:
    def __init__(self, path: str, start: int | None) -> None:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self._file: IO[bytes] = open(path, "r+b" if os.path.exists(path) else "w+b")  # noqa: SIM115
        size = os.fstat(self._file.fileno()).st_size
        #: Whether the file went on from the checkpoint's length (False: a new file).
        self.resumed = start is not None and size >= start
        offset = start if self.resumed and start is not None else 0
        self._file.truncate(offset)
        self._file.seek(offset)

    def append(self, line: dict[str, Any]) -> None:
        self._file.write((json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n").encode())

    def commit(self) -> int:
        """Writes and fsyncs what is buffered; the file's committed length."""
        self._file.flush()
        os.fsync(self._file.fileno())
        return self._file.tell()

    def close(self) -> None:
        self._file.close()


def read_records(path: str, skip: int = 0, field: str = "/records") -> Iterator[tuple[int, dict[str, Any]]]:
    """The records of an NDJSON file after line ``skip``, each with its line number."""
    if not os.path.exists(path):
        raise TaskError(
            "records_missing",
            f"{field}: no records file at {path}",
            hint="name the source's records file: its task's artifacts: must list it, and this task need it",
        )
    with open(path, encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            if number <= skip or not text.strip():
                continue
            yield number, _record(text, number, field)


def _record(text: str, line: int, field: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise TaskError("records_invalid", f"{field}: line {line} is not JSON") from None
    if not (isinstance(value, dict) and isinstance(value.get("stream"), str) and isinstance(value.get("data"), dict)):
        raise TaskError("records_invalid", f"{field}: line {line} is not a record ({{ stream, data, emitted_at }})")
    emitted = value.get("emitted_at")
    return {"stream": value["stream"], "data": value["data"], "emitted_at": emitted if isinstance(emitted, int) else 0}
