import { describe, expect, it } from 'vitest';
import contract from '../schemas/sig/runbook-trigger/v3/runbook-trigger.schema.json' with { type: 'json' };
import { apiSchema } from './api-schemas.ts';

// The route's body and answer are the contract's own definitions, copied into api.schema.json
// (the OpenAPI document is generated from one file): a change to either side fails here.
describe('the runbook trigger route and the runbook-trigger contract (v3)', () => {
  it.each([
    ['RunbookTrigger', 'TriggerRequest'],
    ['RunbookTriggered', 'TriggerResult'],
  ] as const)('%s is the contract’s %s', (api, sig) => {
    const { description: _a, ...route } = apiSchema.$defs[api]!;
    const { description: _b, ...defined } = contract.$defs[sig] as Record<string, unknown>;
    expect(route).toEqual(defined);
  });
});
