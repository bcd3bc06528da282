/**
 * The registry client every `maestro image` and `maestro sbom` command uses: plain HTTP only for
 * loopback registries and those given with --insecure-registry, and credentials from the auth
 * file Docker and Podman write (REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json) and its credential helpers (docs/supply-chain.md).
 */
import { homedir } from 'node:os';
import {
  createRegistryClient,
  dockerConfigCredentials,
  registryAuthFile,
  type RegistryClient,
} from '../../provenance/index.ts';
import type { CliIo } from '../io.ts';

export function cliRegistryClient(io: Pick<CliIo, 'env'>, insecureRegistries: string[]): RegistryClient {
  return createRegistryClient({
    insecureRegistries,
    credentialsFor: dockerConfigCredentials({
      file: registryAuthFile(io.env, io.env.HOME || homedir()),
      env: io.env,
    }),
  });
}
