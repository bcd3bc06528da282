import { getInput, getMultilineInput } from '@actions/core';
import { UsageError } from '../core/index.ts';

export const Mode = { validate: 'validate' } as const;
export type Mode = (typeof Mode)[keyof typeof Mode];
export const Format = { text: 'text', json: 'json' } as const;
export type Format = (typeof Format)[keyof typeof Format];

export interface ActionInputs {
  paths: string[];
  mode: Mode;
  format: Format;
}

/** Reads and checks the `with:` inputs (INPUT_* variables). A bad value names the input and the allowed values. */
export function readInputs(): ActionInputs {
  const paths = getMultilineInput('path').filter((p) => p.trim() !== '');
  const mode = getInput('mode') || Mode.validate;
  const format = getInput('format') || Format.text;
  if (!isOneOf(mode, Mode))
    throw new UsageError(`input "mode" must be one of: ${Object.values(Mode).join(', ')} (got "${mode}")`);
  if (!isOneOf(format, Format))
    throw new UsageError(
      `input "format" must be one of: ${Object.values(Format).join(', ')} (got "${format}")`,
    );
  return { paths: paths.length > 0 ? paths : ['.'], mode, format };
}

function isOneOf<T extends Record<string, string>>(value: string, choices: T): value is T[keyof T] {
  return Object.values(choices).includes(value);
}
