// tasks/wait: sleeps for `duration`, then writes `waitedMs`.
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const { duration = '' } = JSON.parse(process.env.MAESTRO_INPUTS ?? '{}') as { duration?: string };
let ms = 0;
const parts = /([0-9]{1,9})(ms|s|m|h)/gy;
let consumed = 0;
for (let m = parts.exec(duration); m !== null; m = parts.exec(duration)) {
  ms += Number(m[1]) * (units[m[2] as string] as number);
  consumed = parts.lastIndex;
}
if (duration === '' || consumed !== duration.length) {
  process.stderr.write(`wait: invalid duration ${JSON.stringify(duration)} (write e.g. 500ms, 2s, 10m)\n`);
  process.exit(1);
}
await sleep(ms);
if (process.env.MAESTRO_OUTPUT) appendFileSync(process.env.MAESTRO_OUTPUT, `waitedMs=${ms}\n`);
