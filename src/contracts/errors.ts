/**
 * One error type for the whole library. The CLI maps `code` to an exit status; the library never exits.
 * Messages name the bad thing and what was expected (sharp's `invalidParameterError` style).
 */
export type ErrorCode =
  | 'BAD_OPTION' // a flag or option value is invalid
  | 'BAD_MODEL' // the model cannot be used (corrupt, not a ViT, config disagrees with graph)
  | 'BAD_IMAGE' // one image cannot be decoded; recorded per image, never fatal to a scan
  | 'BAD_OUTPUT' // the output directory cannot be used
  | 'NETWORK' // a download failed
  | 'INTERNAL';

export class MassivitError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  /** `cause`: the error this one explains (an ONNX Runtime or file-system error), kept for debugging. */
  constructor(code: ErrorCode, message: string, hint?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'MassivitError';
    this.code = code;
    this.hint = hint;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value}' of type string`;
  return `${String(value)} of type ${typeof value}`;
}

/** "Expected <expected> for <name> but received <value> of type <type>" */
export function invalidOption(name: string, expected: string, value: unknown): MassivitError {
  return new MassivitError('BAD_OPTION', `Expected ${expected} for ${name} but received ${describe(value)}`);
}

export function badModel(message: string, hint?: string, cause?: unknown): MassivitError {
  return new MassivitError('BAD_MODEL', message, hint, cause);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
