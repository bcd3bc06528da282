// Helpers every runner uses: one line splitter, one outputs parser. The one redactor is core's
// (core/redact.ts): workspace/ redacts too, and may not import runners/.
export { LineSplitter, MAX_LINE_CHARS } from './line-splitter.ts';
export { parseOutputsFile, type ParsedOutputs } from './outputs-file.ts';
export { LogChannel } from './log-channel.ts';
export { LOG_DRAIN_MS, logCutOff, logStreamDrained } from './log-drain.ts';
export { cancelledBy, deadlineExceeded, nonZeroExit, oomKilled } from './endings.ts';
export { takeOutputsFile, MAX_OUTPUTS_BYTES } from './take-outputs-file.ts';
export {
  collectMessages,
  readMessages,
  MAX_MESSAGES_BYTES,
  MAX_STATE_BYTES,
  MESSAGES_PROTOCOL_VERSION,
  type CollectedMessages,
} from './messages-file.ts';
export * from './image-pin.ts';
