// Shared by the end-to-end tests: what only they need (the photo, a fake camera made from it, the page's
// top-5). The server, Chromium and page watching come from the browser toolkit, scripts/lib/browser.mjs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SHARED } from '../../scripts/lib/browser.mjs';

export { ROOT, SHARED, launch, session } from '../../scripts/lib/browser.mjs';
export const ARTIFACTS = join(ROOT, 'test-results');
export const CAT_BMP = join(SHARED, 'images', 'cat.bmp');
export const CAT_CLASSES = /^(tabby|tiger cat|egyptian cat)$/i;
mkdirSync(ARTIFACTS, { recursive: true });

/** A one-frame .y4m of cat.bmp for Chromium's fake camera (a one-frame file loops). */
export function fakeCameraFile() {
  const file = join(tmpdir(), 'mnw-cat-640x480.y4m');
  if (!existsSync(file)) {
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', CAT_BMP, '-vf', 'scale=640:480', '-frames:v', '1',
      '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', file]);
  }
  return file;
}

/** The top-5 as the page shows it: [{name, probability}]. */
export function topFive(page) {
  return page.$$eval('#predictions li:not(.empty)', (rows) => rows.map((li) => ({
    name: li.querySelector('.name').textContent,
    probability: Math.round(parseFloat(li.querySelector('.prob').textContent) * 10) / 1000,
  })));
}

/**
 * cat.bmp as a File made in the page, handed over as a drop on the stage or a paste: for playwright's page
 * and the WebDriver one alike. Firefox gives a constructed ClipboardEvent an empty DataTransfer of its own,
 * so the paste's files are put on the event itself, where the page's handler reads them.
 */
export async function handOver(page, how) {
  await page.evaluate(([bytes, how]) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'cat.bmp', { type: 'image/bmp' }));
    if (how === 'drop') {
      const target = document.getElementById('stage');
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    } else {
      const paste = new ClipboardEvent('paste', { bubbles: true, cancelable: true });
      Object.defineProperty(paste, 'clipboardData', { value: data });
      document.dispatchEvent(paste);
    }
  }, [[...readFileSync(CAT_BMP)], how]);
}
