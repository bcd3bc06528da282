"""A file a task reads or writes, named by an input relative to its workspace: one that climbs
out of it (``..``, an absolute path) is refused, naming the input, before any I/O (the TypeScript
SDK's ``workspaceFile``)."""

from __future__ import annotations

import os

from ._errors import TaskError


def workspace_file(workspace: str, path: str, field: str) -> str:
    """The absolute path of ``path`` (relative to ``workspace``); ``field`` is the input's pointer."""
    root = os.path.realpath(workspace)
    full = os.path.normpath(os.path.join(root, path))
    rel = os.path.relpath(full, root)
    if os.path.isabs(path) or rel in (".", "..") or rel.startswith(".." + os.sep):
        raise TaskError(
            "path_outside_workspace",
            f"{field}: {path!r} is not a file inside the workspace",
            hint=f"give {field} as a path relative to the workspace, without .. (for example results/rows.csv)",
        )
    return full
