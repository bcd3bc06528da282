import { resolve } from 'node:path';
import type { RunnerFactory } from '../factory.ts';
import { parseServerlessConfig } from './config.ts';
import { createServerlessRunner } from './serverless-runner.ts';

/** The `serverless` section: validated whole by parseServerlessConfig (no resource classes). */
export const serverlessRunnerFactory: RunnerFactory = {
  create(section) {
    return createServerlessRunner(parseServerlessConfig(section));
  },
  secretFiles: (section) =>
    typeof section.credentialsFile === 'string' ? [resolve(section.credentialsFile)] : [],
};
