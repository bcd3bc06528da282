/* global process, fetch */
// A Lambda custom runtime (the Runtime API loop: GET next, POST response or error) run by the
// emulator in test/setup/lambda-emulator.ts. It plays a Maestro task function: a `shell` command in
// the event runs under /bin/sh with the task protocol's files, and the response carries what the
// task left (docs/runners.md, "Serverless functions"): `exitCode`, `outputsText` ($MAESTRO_OUTPUT),
// `messages` ($MAESTRO_MESSAGES, with the script's stdout and stderr as log messages).
// `env.FN_MODE`: `error` fails the invocation (a function error), `text` answers with plain text.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation`;

function run(script, env) {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', script], { env, cwd: env.MAESTRO_WORK });
    const logs = [];
    const collect = (level) => {
      let rest = '';
      return (chunk) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop();
        for (const message of lines) logs.push({ v: 1, type: 'log', level, message });
      };
    };
    child.stdout.on('data', collect('info'));
    child.stderr.on('data', collect('warn'));
    child.on('close', (code) => resolve({ code: code ?? 1, logs }));
  });
}

async function handle(event, clientContext) {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-fn-'));
  try {
    const files = { MAESTRO_OUTPUT: join(dir, 'outputs'), MAESTRO_MESSAGES: join(dir, 'messages') };
    for (const file of Object.values(files)) writeFileSync(file, '');
    const env = {
      PATH: '/usr/bin:/bin',
      ...event.env,
      ...files,
      MAESTRO_WORK: dir,
      FN_ATTEMPT: event.attempt.attemptId,
    };
    if (event.state !== undefined) {
      env.MAESTRO_STATE = join(dir, 'state');
      writeFileSync(env.MAESTRO_STATE, JSON.stringify(event.state));
    }
    env.MAESTRO_INPUTS = JSON.stringify(event.inputs);
    const seen = {
      v: 1,
      type: 'log',
      message: `function: key ${event.idempotencyKey}, client context key ${clientContext?.custom?.['maestro-idempotency-key']}, received ${event.artifacts?.received?.length ?? 0} artifact(s)`,
    };
    const script = event.command.kind === 'shell' ? event.command.script : event.command.argv.join(' ');
    const { code, logs } = await run(script, env);
    const messages = [seen, ...logs].map((m) => JSON.stringify(m)).join('\n') + '\n';
    return {
      exitCode: code,
      outputsText: readFileSync(files.MAESTRO_OUTPUT, 'utf8'),
      messages: messages + readFileSync(files.MAESTRO_MESSAGES, 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (;;) {
  const next = await fetch(`${api}/next`);
  const id = next.headers.get('lambda-runtime-aws-request-id');
  const context = next.headers.get('lambda-runtime-client-context');
  const event = await next.json();
  const mode = event.env?.FN_MODE;
  if (mode === 'error') {
    await fetch(`${api}/${id}/error`, {
      method: 'POST',
      headers: { 'Lambda-Runtime-Function-Error-Type': 'Unhandled' },
      body: JSON.stringify({ errorType: 'DeployError', errorMessage: `refused with ${event.env.TOKEN}` }),
    });
    continue;
  }
  const body =
    mode === 'text'
      ? 'plain words'
      : JSON.stringify(await handle(event, context ? JSON.parse(context) : undefined));
  await fetch(`${api}/${id}/response`, { method: 'POST', body });
}
