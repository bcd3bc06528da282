// A task of the `shop` catalog, speaking the task protocol by hand (docs/task-protocol.md): its
// inputs arrive as JSON in MAESTRO_INPUTS, its outputs go out as name=value lines appended to
// MAESTRO_OUTPUT, and bad input is exit 2 with the field named on stderr. It imports no SDK, so
// its locked digest covers this folder alone and stays valid across Maestro versions (a catalog
// task on the SDK is locked with the SDK of the Maestro that locks it: docs/tasks.md).
import { appendFileSync } from 'node:fs';
import process from 'node:process';

const inputs = JSON.parse(process.env.MAESTRO_INPUTS ?? '{}');
const problems = [];
if (typeof inputs.subtotalCents !== 'string' || !/^[0-9]{1,12}$/.test(inputs.subtotalCents))
  problems.push('/subtotalCents: must be a whole number of cents, as a string');
if (typeof inputs.ratePercent !== 'number' || !(inputs.ratePercent >= 0 && inputs.ratePercent <= 100))
  problems.push('/ratePercent: must be a number from 0 to 100');
if (problems.length > 0) {
  process.stderr.write(`tax: invalid inputs: ${problems.join('; ')}\n`);
  process.exit(2);
}

const subtotal = Number(inputs.subtotalCents);
// Integer arithmetic on cents: rate in basis points, rounded half up.
const taxCents = Math.floor((subtotal * Math.round(inputs.ratePercent * 100) + 5000) / 10000);
appendFileSync(process.env.MAESTRO_OUTPUT, `taxCents=${taxCents}\ntotalCents=${subtotal + taxCents}\n`);
process.stdout.write(`tax at ${inputs.ratePercent}% on ${subtotal} cents: ${taxCents} cents\n`);
