// The Teach section end to end in Chromium, with the fake camera playing cat.bmp: a class recorded from the
// camera (Record held) plus its photo, a second class from parrot.jpg, training with progress, the right
// class live on the camera, the .tflite downloaded and opened in Classify with its own labels (same top-1),
// and the errors a person can run into.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, CAT_BMP, SHARED, fakeCameraFile, session, topFive } from './helpers.mjs';

const PARROT = join(SHARED, 'images', 'parrot.jpg');
let b;

before(async () => {
  b = await session({ camera: { file: fakeCameraFile() }, acceptDownloads: true, viewport: { width: 1280, height: 1000 } });
  await b.page.goto(b.url);
  await b.page.waitForSelector('body[data-model="0.25"]', { timeout: 30_000 });
});

after(async () => {
  await b?.close();
});

const card = (n) => `#teach-classes .teach-class:nth-child(${n})`;

async function rename(page, n, name) {
  await page.fill(`${card(n)} input[type="text"]`, name);
  await page.press(`${card(n)} input[type="text"]`, 'Tab');
  await page.waitForSelector(`${card(n)}[data-label="${name}"]`);
}

const count = (page, n) => page.textContent(`${card(n)} .teach-count`);

test('an empty class is refused with a message', async () => {
  const { page } = b;
  await page.click('#teach-train');
  await page.waitForSelector('#teach-error:not([hidden])');
  assert.match(await page.textContent('#teach-error'), /"Class 1" has no examples/);
});

test('record from the camera and add photos, train, see the class live, download, reopen in Classify', async (t) => {
  const { page } = b;
  await rename(page, 1, 'kitty');
  await rename(page, 2, 'bird');
  // Class 1: frames of the live camera while Record is held, and the photo itself.
  await page.click('#camera-toggle');
  await page.waitForSelector('body[data-camera="on"]');
  const record = page.locator(`${card(1)} .record`);
  await record.scrollIntoViewIfNeeded();
  const box = await record.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.waitForFunction((sel) => parseInt(document.querySelector(sel)?.textContent, 10) >= 3,
    `${card(1)} .teach-count`, { timeout: 15_000 });
  await page.mouse.up();
  const recorded = parseInt(await count(page, 1), 10);
  await page.setInputFiles(`${card(1)} input[type="file"]`, CAT_BMP);
  await page.waitForFunction(([sel, n]) => parseInt(document.querySelector(sel).textContent, 10) === n + 1,
    [`${card(1)} .teach-count`, recorded]);
  // Class 2: a photo.
  await page.setInputFiles(`${card(2)} input[type="file"]`, PARROT);
  await page.waitForFunction((sel) => document.querySelector(sel).textContent === '1 example', `${card(2)} .teach-count`);

  await page.click('#teach-train');
  await page.waitForSelector('body[data-taught="1"]', { timeout: 30_000 });
  const report = await page.textContent('#teach-progress-text');
  assert.match(report, /^Trained in \d+ ms: \d+ steps, loss [\d.]+, 100% of the examples right\.$/);
  t.diagnostic(`${recorded} recorded frames + 1 photo vs 1 photo: ${report}`);

  // Live: the camera (the cat) is "kitty", frame after frame.
  const start = Number(await page.evaluate(() => document.body.dataset.teachPredicted ?? 0));
  await page.waitForFunction((start) => Number(document.body.dataset.teachPredicted) >= start + 5, start, { timeout: 20_000 });
  assert.equal(await page.textContent('#teach-predictions li.best .name'), 'kitty');
  assert.match(await page.textContent('#teach-source'), /live camera/);
  await page.locator('#teach').screenshot({ path: join(ARTIFACTS, 'teach.png') });

  // Download, then open the file in Classify: its labels, the same top-1 on the same camera.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#teach-download')]);
  assert.equal(download.suggestedFilename(), 'taught-kitty-bird.tflite');
  const path = join(ARTIFACTS, 'taught-kitty-bird.tflite');
  await download.saveAs(path);
  const bytes = readFileSync(path);
  assert.equal(bytes.subarray(4, 8).toString(), 'TFL3');
  await page.setInputFiles('#model-file', path);
  await page.waitForSelector('body[data-model="custom"]', { timeout: 30_000 });
  await page.waitForFunction(() => /kitty/i.test(document.querySelector('#predictions li.best .name')?.textContent ?? ''),
    null, { timeout: 20_000 });
  const top = await topFive(page);
  assert.deepEqual(top.map((p) => p.name), ['Kitty', 'Bird']);
  assert.match(await page.textContent('#model-desc'), /uint8 · 2 classes/);
  // A new model starts the Teach section over: no predictions of the old head stay on show.
  assert.equal(await page.isHidden('#teach-live'), true);
  assert.equal(await page.textContent(`${card(1)} .teach-count`), '0 examples');
  await page.screenshot({ path: join(ARTIFACTS, 'teach-reopened.png'), fullPage: false });
  assert.deepEqual(b.problems(), []);
});

test('a name already taken is refused and the old name stays', async () => {
  const { page } = b;
  await page.fill(`${card(2)} input[type="text"]`, 'Class 1');
  await page.press(`${card(2)} input[type="text"]`, 'Tab');
  await page.waitForSelector('#teach-error:not([hidden])');
  assert.match(await page.textContent('#teach-error'), /already a class "Class 1"/);
  assert.equal(await page.inputValue(`${card(2)} input[type="text"]`), 'Class 2');
});
