import { Option } from 'commander';

/** Where the CLI reads the server's token from (never a flag: flags end up in shell history). */
export const TOKEN_ENV = 'MAESTRO_TOKEN';

/**
 * `--server <url>`, shared by the commands that can talk to a server. Apart from the server client
 * so that declaring the flag does not load it (`maestro validate` without --server stays local).
 */
export const serverOption = () =>
  new Option('--server <url>', `talk to maestro server at this URL (the token from ${TOKEN_ENV})`);
