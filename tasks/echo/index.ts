// tasks/echo: prints `message` and writes `message` plus every entry of `outputs` as outputs.
import { appendFileSync } from 'node:fs';

const inputs = JSON.parse(process.env.MAESTRO_INPUTS ?? '{}') as {
  message?: string;
  outputs?: Record<string, unknown>;
};
const outputs: Record<string, string> = {
  ...(inputs.message === undefined ? {} : { message: inputs.message }),
};
for (const [k, v] of Object.entries(inputs.outputs ?? {})) outputs[k] = String(v);
if (inputs.message !== undefined) process.stdout.write(`${inputs.message}\n`);
const outputFile = process.env.MAESTRO_OUTPUT;
for (const [k, v] of Object.entries(outputs)) {
  if (/[\r\n]/.test(v)) {
    process.stderr.write(`echo: output ${k} holds a line break; outputs are single lines\n`);
    process.exit(1);
  }
  if (outputFile) appendFileSync(outputFile, `${k}=${v}\n`);
}
