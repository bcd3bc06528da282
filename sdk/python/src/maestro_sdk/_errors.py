"""The SDK's typed errors: a stable ``code``, whose fault it is, whether a retry of the same
attempt could succeed, and a hint a person can act on (the shape of the TypeScript SDK's
``TaskError`` and of the engine's errors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Fault = Literal["user", "system"]


class TaskError(Exception):
    """A failure with a stable ``code`` the runner's log and tests can rely on."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fault: Fault = "user",
        retryable: bool = False,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fault: Fault = fault
        self.retryable = retryable
        self.hint = hint


class Cancelled(TaskError):
    """The task was asked to stop: the runner's SIGTERM (a cancel or the deadline)."""

    def __init__(self, message: str = "the task was asked to stop") -> None:
        super().__init__("cancelled", message, hint="the run was cancelled or hit its timeout")


@dataclass(frozen=True)
class ValidationIssue:
    """One problem with a value, at a JSON Pointer into it (``""`` is the value itself)."""

    path: str
    message: str


@dataclass(frozen=True)
class ValidationResult:
    """What ``validate`` returns: every problem found, not the first."""

    ok: bool
    errors: list[ValidationIssue] = field(default_factory=list)

    @classmethod
    def valid(cls) -> ValidationResult:
        return cls(True, [])

    @classmethod
    def invalid(cls, *errors: ValidationIssue | tuple[str, str]) -> ValidationResult:
        issues = [e if isinstance(e, ValidationIssue) else ValidationIssue(*e) for e in errors]
        return cls(False, issues)
