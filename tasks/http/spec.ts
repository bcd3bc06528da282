// The http task's spec: its inputs are task.json's (checked equal by tasks/http/http.test.ts), its
// outputs the two task.json lists, typed.
export const httpSpec = {
  inputs: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: { type: 'string', description: 'http(s) URL to request.' },
      method: {
        enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
        description: 'Defaults to GET.',
      },
      headers: { type: 'object', additionalProperties: { type: 'string' } },
      body: { type: 'string', description: 'Request body.' },
      identity: { type: 'string', description: 'Workload identity token, sent as a bearer token.' },
      timeoutMs: { type: 'integer', minimum: 1, description: 'Request timeout, default 30000.' },
      failOnStatus: {
        type: 'boolean',
        description:
          'Fail on a status >= 400 (http_status). Default true, or false when successWhen is set (the condition decides); an explicit true is checked before the condition.',
      },
      successWhen: {
        type: 'string',
        minLength: 1,
        description:
          "CEL over the final response (after redirects and retries): `status` (int), `headers` (map, names lower-cased), `body` (string) and `json` (the body parsed, null when not JSON), e.g. `status == 200 && json.state == 'ready'`. False fails the task (condition_false) after its outputs are set; it is not retried.",
      },
      idempotencyKey: {
        anyOf: [{ type: 'string', pattern: '^[\\x20-\\x7e]{1,255}$' }, { enum: [false] }],
        description:
          'The Idempotency-Key header (IETF httpapi draft, sent quoted). By default POST, PUT, PATCH and DELETE send one derived from the run and task ids: the same on every retry and attempt of the task in the run, another in another run. A string is sent instead: 1 to 255 printable ASCII characters (space to ~), a quote or backslash escaped as RFC 8941 says; false sends none (and POST/PATCH are then not retried).',
      },
      retry: {
        type: 'object',
        additionalProperties: false,
        description:
          'Try again on a retryable status or a request that could not be sent; off without it, `retry: {}` takes the defaults. Waits what Retry-After says (seconds or an HTTP-date), else an exponential backoff with full jitter; never past the task’s deadline. POST and PATCH are retried only with an Idempotency-Key.',
        properties: {
          attempts: {
            type: 'integer',
            minimum: 1,
            maximum: 10,
            description: 'Tries in all, the first included (default 3).',
          },
          statuses: {
            type: 'array',
            items: { type: 'integer', minimum: 400, maximum: 599 },
            uniqueItems: true,
            description: 'The statuses to retry (default [429, 500, 502, 503, 504]).',
          },
          initialDelayMs: {
            type: 'integer',
            minimum: 0,
            description: 'The first backoff’s cap without Retry-After (default 500); doubles each retry.',
          },
          maxDelayMs: {
            type: 'integer',
            minimum: 0,
            description:
              'The longest single wait (default 30000); a Retry-After beyond it fails the task (retry_after_too_long) instead of sleeping.',
          },
          maxWaitMs: {
            type: 'integer',
            minimum: 0,
            description: 'The most waited across all retries (default 120000).',
          },
        },
      },
    },
  },
  outputs: {
    type: 'object',
    required: ['status', 'bodyDigest'],
    properties: {
      status: { type: 'integer', description: 'The HTTP status of the last response (after redirects).' },
      bodyDigest: { type: 'string', description: 'sha256:<hex> of the response body.' },
    },
  },
} as const;
