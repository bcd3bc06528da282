// tasks/approval: an engine primitive (engine/approval-task/), never run as a process. The engine
// recognises the built-in `approval` task and parks the run instead of starting a runner; should
// anything ever start this file, it fails rather than let the gate pass.
process.stderr.write(
  'tasks/approval is an engine primitive: the engine waits for its approvals, it never runs it\n',
);
process.exit(1);
