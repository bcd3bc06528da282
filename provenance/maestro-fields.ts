import { Ajv2020 } from 'ajv/dist/2020.js';
import schema from '../schemas/receipt-maestro.schema.json' with { type: 'json' };

/** Returns the first mismatch as text, or undefined when the value matches the schema. */
export type MaestroFieldsCheck = (value: unknown) => string | undefined;

/**
 * Compiles schemas/receipt-maestro.schema.json (Maestro's part of the predicate). The attestor
 * checks what it is about to sign; verifiers check what they read. Compiled per caller, so no
 * module holds mutable state.
 */
export function compileMaestroFieldsCheck(): MaestroFieldsCheck {
  const ajv = new Ajv2020({ allErrors: false, strict: false });
  const validate = ajv.compile(schema);
  return (value) => {
    if (validate(value)) return undefined;
    const error = validate.errors?.[0];
    return error ? `${error.instancePath || '/'}: ${error.message ?? 'invalid'}` : 'invalid';
  };
}
