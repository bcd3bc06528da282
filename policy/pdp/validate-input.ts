import { Ajv2020 } from 'ajv/dist/2020.js';
import schema from '../../schemas/policy-input.schema.json' with { type: 'json' };

export type InputCheck = (input: unknown) => string | undefined;

/**
 * Compiles schemas/policy-input.schema.json once per decision point. Returns a check that gives
 * the first mismatch as text (`/task/kind: must be equal to one of the allowed values`), or
 * undefined when the input matches. An input the schema refuses is never evaluated.
 */
export function compileInputCheck(): InputCheck {
  const ajv = new Ajv2020({ allErrors: false, strict: false });
  const validate = ajv.compile(schema);
  return (input) => {
    if (validate(input)) return undefined;
    const error = validate.errors?.[0];
    return error ? `${error.instancePath || '/'}: ${error.message ?? 'invalid'}` : 'invalid input';
  };
}
