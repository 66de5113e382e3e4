// The teaching module (pkg-teach/): a .wasm of its own holding what only teaching and learning need —
// training heads, exporting taught models, the worked example's reference ops — loaded once per URL, on
// first use, so an app that only classifies downloads none of it.
import { ModelLoadError } from './errors.js';
import { localBytes } from './local.js';

const loads = new Map(); // glue URL → Promise of the initialized glue

/** The teaching module's glue at `url` (…/pkg-teach/mobilenet_wasm.js), initialized; a failed load may be retried. */
export function loadLessons(url) {
  if (!loads.has(url)) {
    const load = (async () => {
      const glue = await import(/* @vite-ignore */ /* webpackIgnore: true */ url);
      await glue.default({ module_or_path: await localBytes(new URL('mobilenet_wasm_bg.wasm', url)) });
      return glue;
    })().catch((e) => {
      loads.delete(url);
      throw new ModelLoadError(`cannot load the teaching module (${url}): ${e.message}; a bundled app serves a ` +
        'copy of the package and passes its URL as packageUrl', { cause: e });
    });
    loads.set(url, load);
  }
  return loads.get(url);
}
