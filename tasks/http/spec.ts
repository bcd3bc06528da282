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
      failOnStatus: { type: 'boolean', description: 'Fail on a status >= 400 (default true).' },
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
