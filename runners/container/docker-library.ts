import { createRequire } from 'node:module';
import type DockerClient from 'dockerode';

const requireHere = createRequire(import.meta.url);

/**
 * dockerode, loaded on first use instead of at import (about 130 ms): every `maestro` command
 * imports runners/, and few of them start the container runner. require() caches the module.
 */
export function dockerClient(): typeof DockerClient {
  return requireHere('dockerode') as typeof DockerClient;
}
