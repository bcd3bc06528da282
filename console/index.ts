// The public face of console/: the operator console's static assets and the routes that serve them.
export { mountConsole, CONTENT_SECURITY_POLICY, type ConsoleOptions } from './serve.ts';
export { buildConsole, isConsoleBuilt, CONSOLE_DIST } from './build.ts';
