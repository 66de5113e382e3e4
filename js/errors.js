// Every error this package throws is a MobileNetError, so callers can tell ours from their own bugs;
// the subclass says what to fix: the model file (ModelLoadError), the input (InputError), or the
// engine build, which lacks a capability (UnsupportedError). `kind` is the engine's own error kind
// when the engine raised the error ('config', 'shape', 'non_finite', 'unknown_end_point',
// 'malformed_model', 'unsupported_model'), else null.

export class MobileNetError extends Error {
  /** `options`: {cause, kind} (kind: the engine's error kind, or null). */
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = options.kind ?? null;
  }
}
export class ModelLoadError extends MobileNetError {}
export class InputError extends MobileNetError {}
export class UnsupportedError extends MobileNetError {}

const CLASSES = { MobileNetError, ModelLoadError, InputError, UnsupportedError };
// Names written out, not taken from the classes: minifiers rename classes in bundled apps.
for (const [name, cls] of Object.entries(CLASSES)) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
}

// The wasm throws Errors whose message is "kind: message" and whose own `kind` property is the kind.
export const kindOf = (error) => (typeof error?.kind === 'string' ? error.kind : null);
// Kinds that are about what the caller passed in to a run.
const INPUT_KINDS = new Set(['shape', 'config', 'non_finite', 'teach']);

/** Turns whatever the engine threw into one of ours; `during` is 'load' or 'run'. */
export function fromEngine(error, during) {
  if (error instanceof MobileNetError) return error;
  const message = error?.message ?? String(error);
  const options = { cause: error, kind: kindOf(error) };
  if (during === 'load') return new ModelLoadError(`cannot load the model: ${message}`, options);
  if (INPUT_KINDS.has(options.kind)) return new InputError(message, options);
  return new MobileNetError(message, options);
}

// Errors cross the worker boundary as plain data; these keep their class and kind.
export const toData = (e) => ({ name: e?.name, message: e?.message ?? String(e), kind: kindOf(e) });
export const fromData = ({ name, message, kind }) => new (CLASSES[name] ?? MobileNetError)(message, { kind });
