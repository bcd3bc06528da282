// Helpers every runner uses: one redactor, one line splitter, one outputs parser.
export { createRedactor, redactRecord, redactValue, REDACTED, type Redactor } from './redact.ts';
export { LineSplitter, MAX_LINE_CHARS } from './line-splitter.ts';
export { parseOutputsFile, type ParsedOutputs } from './outputs-file.ts';
export { LogChannel } from './log-channel.ts';
export { takeOutputsFile, MAX_OUTPUTS_BYTES } from './take-outputs-file.ts';
