// Shared by the end-to-end tests: the page server, headless Debian Chromium through playwright-core
// (never a downloaded browser), a fake camera made from a photo, and a guard that no request leaves
// 127.0.0.1.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const SHARED = process.env.MOBILENET_SHARED ?? join(ROOT, '..', 'shared');
export const ARTIFACTS = join(ROOT, 'test-results');
export const CAT_BMP = join(SHARED, 'images', 'cat.bmp');
export const CAT_CLASSES = /^(tabby|tiger cat|egyptian cat)$/i;
mkdirSync(ARTIFACTS, { recursive: true });

/** scripts/serve.mjs (or another command printing an http://127.0.0.1:PORT/ URL) on a free port. */
export function startServer(args = [join(ROOT, 'scripts/serve.mjs'), '--port', '0']) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      const m = text.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve({ child, url: m[0] });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

const BASE_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/**
 * A fresh Chromium profile; returns {context, page, outside, errors, requests}: requests to anywhere but
 * 127.0.0.1, console errors and every request URL, collected for the test to assert on.
 */
export async function browser(extraArgs = [], options = {}) {
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'mnw-chrome-')), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [...BASE_ARGS, ...extraArgs],
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const outside = [];
  const errors = [];
  const requests = [];
  context.on('request', (r) => {
    requests.push(r.url());
    const u = new URL(r.url());
    if (!['127.0.0.1', 'localhost'].includes(u.hostname) && !['data:', 'blob:'].includes(u.protocol)) outside.push(r.url());
  });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, outside, errors, requests };
}

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
