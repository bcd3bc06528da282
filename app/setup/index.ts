// The GitHub App's setup: probot's manifest flow (setup server), the credentials file it writes,
// and the development webhook relay.
export { createSetupServer, type SetupServerOptions } from './setup-server.ts';
export {
  CREDENTIALS_FILE,
  readCredentials,
  writeCredentials,
  type AppCredentials,
} from './credentials-file.ts';
export { buildManifest, findAppYml, PACKAGED_APP_YML } from './app-manifest.ts';
export { startWebhookProxy, type WebhookProxy } from './webhook-proxy.ts';
