import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../core/index.ts';
import { classifyInvoke } from './classify.ts';

const redact = createRedactor(['s3cr3t']);
const now = () => 1000;
const ok = (payload: unknown, extra = {}) => ({ status: 200, body: JSON.stringify(payload), ...extra });

describe('classifyInvoke', () => {
  it('outputs from the object, the $MAESTRO_OUTPUT text and output messages; only declared names, redacted', () => {
    const v = classifyInvoke(
      ok({
        outputs: { a: '1', undeclared: 'x', n: 5 },
        outputsText: 'b<<EOF\ntwo\nlines\nEOF\n',
        messages:
          '{"v":1,"type":"output","name":"c","value":"has s3cr3t"}\n{"v":1,"type":"log","message":"hi"}\n',
      }),
      ['a', 'b', 'c', 'n'],
      redact,
      now,
    );
    expect(v).toMatchObject({
      outcome: 'succeeded',
      exitCode: 0,
      outputs: { a: '1', b: 'two\nlines', c: 'has ***' },
    });
    expect(v.lines.map((l) => l.text)).toEqual(['hi', 'output "n" is not a string; ignored']);
  });

  it('the log tail (X-Amz-Log-Result) becomes redacted stdout lines, before the messages', () => {
    const tail = Buffer.from('START\nusing s3cr3t\nEND\n').toString('base64');
    const v = classifyInvoke(ok({}, { logResult: tail }), [], redact, now);
    expect(v.lines.map((l) => `${l.stream}: ${l.text}`)).toEqual([
      'stdout: START',
      'stdout: using ***',
      'stdout: END',
    ]);
  });

  it('X-Amz-Function-Error, or the error payload the emulator sends without it, is FunctionError', () => {
    const payload = { errorType: 'Error', errorMessage: 'bad s3cr3t' };
    for (const extra of [{ functionError: 'Unhandled' }, {}])
      expect(classifyInvoke(ok(payload, extra), [], redact, now)).toMatchObject({
        outcome: 'failed',
        reason: 'FunctionError',
        retryable: true,
        message: 'Error: bad ***',
      });
  });

  it("the function's timeout, however Lambda or the emulator says it, is DeadlineExceeded", () => {
    const cases = [
      ok(
        {
          errorType: 'Sandbox.Timedout',
          errorMessage: 'RequestId: x Error: Task timed out after 3.00 seconds',
        },
        { functionError: 'Unhandled' },
      ),
      ok(
        { errorMessage: '2026-12-01T10:00:00.000Z x Task timed out after 3.00 seconds' },
        { functionError: 'Unhandled' },
      ),
      { status: 200, body: 'Task timed out after 3.00 seconds' },
    ];
    for (const response of cases)
      expect(classifyInvoke(response, [], redact, now)).toMatchObject({
        outcome: 'timed_out',
        reason: 'DeadlineExceeded',
      });
  });

  it('a non-zero exitCode is NonZeroExit; a non-object or a bad exitCode is FunctionResponseInvalid', () => {
    expect(classifyInvoke(ok({ exitCode: 3 }), [], redact, now)).toMatchObject({
      outcome: 'failed',
      exitCode: 3,
      reason: 'NonZeroExit',
      retryable: true,
    });
    for (const body of [ok([1]), ok('text'), { status: 200, body: 'plain' }, ok({ exitCode: 'x' })])
      expect(classifyInvoke(body, [], redact, now)).toMatchObject({
        outcome: 'failed',
        reason: 'FunctionResponseInvalid',
        retryable: false,
      });
  });

  it('Invoke API statuses name what failed; only throttling and 5xx are retryable', () => {
    const reasons = Object.fromEntries(
      [400, 403, 404, 413, 429, 500, 503].map((status) => {
        const v = classifyInvoke({ status, body: 'detail s3cr3t' }, [], redact, now);
        expect(v.message).toContain('detail ***');
        return [status, `${v.reason}:${v.retryable}`];
      }),
    );
    expect(reasons).toEqual({
      400: 'InvokeRejected:false',
      403: 'InvokeForbidden:false',
      404: 'FunctionNotFound:false',
      413: 'EventTooLarge:false',
      429: 'Throttled:true',
      500: 'InvokeFailed:true',
      503: 'InvokeFailed:true',
    });
  });
});
