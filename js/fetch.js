// Fetches model files with byte progress: each body is streamed, so onProgress sees bytes as they
// arrive rather than one jump at the end.
import { ModelLoadError } from './errors.js';
import { isFileUrl, readLocal } from './local.js';

/** Fetches every URL in parallel; onProgress({loaded, total}) — total is null when a size is unknown. */
export async function fetchFiles(urls, onProgress, signal) {
  const responses = await Promise.all(urls.map((url) => open(url, signal)));
  const sizes = responses.map((r) => Number(r.headers.get('content-length')) || 0);
  const total = sizes.every((s) => s > 0) ? sizes.reduce((a, b) => a + b, 0) : null;
  let loaded = 0;
  const progress = (n) => {
    loaded += n;
    // A compressed transfer can deliver more than its Content-Length: never report more than 100%.
    onProgress?.({ loaded, total: total === null ? null : Math.max(total, loaded) });
  };
  progress(0);
  return Promise.all(responses.map((r, i) => read(r, urls[i], progress)));
}

/** The text of a small file (labels). */
export async function fetchText(url, signal) {
  return (await open(url, signal)).text();
}

async function open(url, signal) {
  let response;
  try {
    // Node's fetch does not read file: URLs; a local file is one chunk with its size known.
    response = isFileUrl(url) ? await localResponse(url, signal) : await fetch(url, { signal });
  } catch (e) {
    throw new ModelLoadError(`cannot fetch ${url}: ${e.message}`, { cause: e });
  }
  if (!response.ok) throw new ModelLoadError(`cannot fetch ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  return response;
}

async function localResponse(url, signal) {
  signal?.throwIfAborted();
  const bytes = await readLocal(url);
  return new Response(bytes, { headers: { 'content-length': String(bytes.length) } });
}

async function read(response, url, progress) {
  const chunks = [];
  let size = 0;
  try {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
      progress(value.length);
    }
  } catch (e) {
    throw new ModelLoadError(`download of ${url} failed: ${e.message}`, { cause: e });
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}
