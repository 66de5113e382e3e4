// Every error this package throws is a MobileNetError, so callers can tell ours from their own bugs;
// the subclass says what to fix: the model file (ModelLoadError), the input (InputError), or the
// engine build, which lacks a capability (UnsupportedError).

export class MobileNetError extends Error {}
export class ModelLoadError extends MobileNetError {}
export class InputError extends MobileNetError {}
export class UnsupportedError extends MobileNetError {}

const CLASSES = { MobileNetError, ModelLoadError, InputError, UnsupportedError };
// Names written out, not taken from the classes: minifiers rename classes in bundled apps.
for (const [name, cls] of Object.entries(CLASSES)) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
}

// The wasm throws plain Errors whose message starts with the error kind ("shape: 10 bytes for …").
const kindOf = (error) => /^([a-z_]+): /.exec(error?.message ?? '')?.[1];

/** Turns whatever the engine threw into one of ours; `during` is 'load' or 'run'. */
export function fromEngine(error, during) {
  if (error instanceof MobileNetError) return error;
  const message = error?.message ?? String(error);
  if (during === 'load') return new ModelLoadError(`cannot load the model: ${message}`, { cause: error });
  // shape / config / non_finite are about what the caller passed in.
  if (['shape', 'config', 'non_finite'].includes(kindOf(error))) return new InputError(message, { cause: error });
  return new MobileNetError(message, { cause: error });
}

// Errors cross the worker boundary as plain data; these keep their class.
export const toData = (e) => ({ name: e?.name, message: e?.message ?? String(e) });
export const fromData = ({ name, message }) => new (CLASSES[name] ?? MobileNetError)(message);
