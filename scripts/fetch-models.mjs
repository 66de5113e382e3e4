// Downloads the official pretrained MobileNet v1 models into www/models/, for machines without the
// shared models folder (`npm run fetch-models`; tests never run it, they read ../shared).
// The 0.25/0.5/0.75 models come from TensorFlow's hosted-models archive (.tgz holding the .tflite);
// the 1.0/224 model, split into an embedding extractor and a head, and the labels come from the
// google-coral test_data repository. Usage: node scripts/fetch-models.mjs [--force]
import { mkdir, writeFile, access } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEST = fileURLToPath(new URL('../www/models/', import.meta.url));
const HOSTED = 'https://storage.googleapis.com/download.tensorflow.org/models/mobilenet_v1_2018_08_02';
const CORAL = 'https://github.com/google-coral/test_data/raw/master';
const FILES = [
  ...['0.25_128', '0.5_160', '0.75_192'].map((v) => ({
    name: `mobilenet_v1_${v}_quant.tflite`,
    url: `${HOSTED}/mobilenet_v1_${v}_quant.tgz`,
  })),
  ...['mobilenet_v1_1.0_224_quant_embedding_extractor.tflite', 'mobilenet_v1_1.0_224_quant_head.tflite',
    'imagenet_labels.txt'].map((name) => ({ name, url: `${CORAL}/${name}` })),
];

/** The files of a tar archive: 512-byte headers, each followed by its data padded to 512 bytes. */
export function* untar(tar) {
  const text = (from, len) => new TextDecoder().decode(tar.subarray(from, from + len)).replace(/\0.*$/s, '');
  let longName = null;
  for (let at = 0; at + 512 <= tar.length;) {
    const name = text(at, 100);
    if (!name) return; // two zero blocks end the archive
    const size = parseInt(text(at + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(tar[at + 156]);
    const prefix = text(at + 345, 155); // ustar splits long paths into prefix/name
    const data = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = new TextDecoder().decode(data).replace(/\0.*$/s, ''); // GNU long name for the next entry
      continue;
    }
    if (type === '0' || type === '\0') yield { name: longName ?? (prefix ? `${prefix}/${name}` : name), data };
    longName = null;
  }
}

async function download(url) {
  const response = await fetch(url, { redirect: 'follow' });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function fetchOne({ name, url }, force) {
  const path = join(DEST, name);
  if (!force && (await access(path).then(() => true, () => false))) return `${name}: already there`;
  let bytes = await download(url);
  if (url.endsWith('.tgz')) {
    const entry = [...untar(gunzipSync(bytes))].find((f) => f.name.endsWith(`/${name}`) || f.name === name);
    if (!entry) throw new Error(`${url} holds no ${name}`);
    bytes = entry.data;
  }
  await writeFile(path, bytes);
  return `${name}: ${(bytes.length / 1e6).toFixed(1)} MB`;
}

async function main() {
  await mkdir(DEST, { recursive: true });
  const force = process.argv.includes('--force');
  let failed = 0;
  for (const file of FILES) {
    try {
      console.log(`[fetch-models] ${await fetchOne(file, force)}`);
    } catch (e) {
      failed++;
      console.error(`[fetch-models] ${file.name}: ${e.message}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
