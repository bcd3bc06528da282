"""The task → runner messages of docs/task-protocol.md (v1), and where they are written: the file
``MAESTRO_MESSAGES`` names (one JSON object per line), or, where a runner does not set it yet
(Kubernetes), the older channels: outputs into ``MAESTRO_OUTPUT``, everything else on stderr."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from typing import Any, Protocol, TextIO

PROTOCOL_VERSION = 1

Message = dict[str, Any]


class MessageSink(Protocol):
    def write(self, message: Message) -> None: ...


def encode(message: Message) -> str:
    # allow_nan=False: NaN and Infinity are not JSON; the runner would drop the whole line.
    return json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class FileSink:
    """Appends each message as one line with one ``write`` on an ``O_APPEND`` descriptor: whole
    lines even if a child of the task writes too, and nothing buffered that a SIGKILL after the
    grace could lose. ``time`` (ms since the epoch) comes from the task's clock."""

    def __init__(self, path: str, now: Callable[[], float]) -> None:
        self._path = path
        self._now = now

    def write(self, message: Message) -> None:
        line = encode({**message, "time": int(self._now() * 1000)}) + "\n"
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)


class FallbackSink:
    """Without ``MAESTRO_MESSAGES``: outputs in the ``name<<DELIMITER`` form (a value may hold any
    character, and a random delimiter cannot occur in it by accident), or ``name=value`` on
    stdout when there is no outputs file either (a task run by hand); the rest on stderr."""

    def __init__(self, output_file: str | None, stdout: TextIO, stderr: TextIO) -> None:
        self._output_file = output_file
        self._stdout = stdout
        self._stderr = stderr

    def write(self, message: Message) -> None:
        if message["type"] == "output":
            name, value = message["name"], message["value"]
            if self._output_file is None:
                self._stdout.write(f"{name}={value}\n")
                self._stdout.flush()
                return
            delimiter = f"MAESTRO_{secrets.token_hex(12)}"
            with open(self._output_file, "a", encoding="utf-8") as out:
                out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            return
        self._stderr.write(describe(message) + "\n")
        self._stderr.flush()


def describe(message: Message) -> str:
    kind = message["type"]
    if kind == "log":
        level = message.get("level", "info")
        return f"{level}: {message['message']}" if level in ("warn", "error") else message["message"]
    if kind == "metric":
        unit = f" {message['unit']}" if message.get("unit") else ""
        return f"metric {message['name']}={message['value']}{unit}"
    if kind == "artifact":
        return f"artifact reported: {message['path']}"
    if kind == "progress":
        total = "" if message.get("total") is None else f"/{message['total']}"
        done = "" if message.get("done") is None else message["done"]
        return f"progress {done}{total} {message.get('message', '')}".rstrip()
    if kind == "heartbeat":
        return "heartbeat"
    return f"state checkpoint ({len(encode({'value': message['value']})) - 10} bytes)"


class MemorySink:
    """The harness's sink: every message kept, in order."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def write(self, message: Message) -> None:
        encode(message)  # what the file sink would refuse, the harness refuses too
        self.messages.append(message)


def output_text(value: Any) -> str:
    """Output values are strings on the wire: a string as it is, anything else as JSON text."""
    return value if isinstance(value, str) else encode(value)
