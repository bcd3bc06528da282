// tasks/wait is an engine primitive (engine/wait/, engine/durable-timer.ts): the engine waits
// itself, on a durable timer it stores, and polls an HTTP condition itself, so no process sleeps
// and an engine restart neither loses nor restarts the wait. It never starts this file; a runner
// that did (an engine too old to know the primitive) gets a clear refusal, not a silent success.
process.stderr.write('tasks/wait is run by the engine itself (engine/wait/); this engine does not know it\n');
process.exitCode = 2;
