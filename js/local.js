// Files on this machine, for Node: the package's own .wasm and `file:` model URLs, which Node's fetch
// does not read. The fs module is imported by a name held in a variable, with both bundlers' ignore
// comments, so browser bundles neither include nor try to resolve it.

const FS = 'node:fs/promises';

/** Whether this is Node (browsers, and bundles made for them, have no process.versions.node). */
export const isNode = () => typeof globalThis.process?.versions?.node === 'string';

/** Whether `url` (a string or URL) names a local file. */
export const isFileUrl = (url) => String(url).startsWith('file:');

/** The bytes of the local file at `url` (a file: URL, as a string or URL). */
export async function readLocal(url) {
  const { readFile } = await import(/* @vite-ignore */ /* webpackIgnore: true */ FS);
  const buffer = await readFile(new URL(url));
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** In Node, a file: URL's bytes (Node's fetch does not read files); anything else as it is. */
export const localBytes = async (where) =>
  isNode() && (typeof where === 'string' || where instanceof URL) && isFileUrl(where) ? readLocal(where) : where;
