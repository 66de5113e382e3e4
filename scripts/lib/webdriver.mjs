// Firefox and WebKitGTK (Safari's engine) for the end-to-end tests, through WebDriver (selenium-webdriver,
// with the drivers named: Selenium Manager never runs, so nothing is downloaded). Chromium stays on
// playwright-core (browser.mjs). A launched engine hands back a small page object with the subset of
// playwright's Page API our tests use, so one test body runs in every engine.
//   Firefox: Debian's firefox-esr, headless, through geckodriver (crates.io); its fake camera is a pref.
//   WebKitGTK: MiniBrowser through WebKitWebDriver, on a private Xvfb display (it has no headless mode);
//   it has no fake camera, so the page's camera path there ends in its fallback message.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLocal } from './browser.mjs';

export const ENGINES = ['firefox', 'webkit'];

const GECKODRIVER = process.env.GECKODRIVER ?? join(homedir(), '.cargo', 'bin', 'geckodriver');
const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER ?? '/usr/bin/WebKitWebDriver';
const MINIBROWSER = process.env.MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** What runs, as a report names it: "headless Firefox 153.8.0esr", "WebKitGTK 2.50.6 (MiniBrowser)". */
export function browserVersion(engine) {
  const run = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return 'version unknown';
    }
  };
  if (engine === 'firefox') return `headless ${run(FIREFOX, ['--version']).replace(/^Mozilla /, '')}`;
  const v = run('dpkg-query', ['-W', '-f', '${Version}', 'libwebkit2gtk-4.1-0']).replace(/-.*$/, '');
  return `WebKitGTK ${v} (MiniBrowser under Xvfb)`;
}

/**
 * Firefox's prefs for a camera: `allow` plays its fake device with no prompt; `allow: false` blocks
 * camera access as a user who said no (getUserMedia rejects with NotAllowedError).
 */
const cameraPrefs = ({ allow = true } = {}) => ({
  'media.navigator.streams.fake': true, // a device to ask for: without one the answer is "no camera", not "no"
  ...(allow ? { 'media.navigator.permission.disabled': true } : { 'permissions.default.camera': 2 }),
});

/**
 * Launches `engine` ('firefox' | 'webkit'). `camera` ({allow}) applies to Firefox only. Returns
 * {page, engine, close, check, open}: check(what) throws if a page loaded since launch logged an error or
 * fetched a resource off this machine; open(url, {ready}) is browser.mjs's openPage() for the one page.
 */
export async function launchEngine(engine, { camera } = {}) {
  // Selenium Manager would try the network for drivers and statistics: both drivers are named below.
  process.env.SE_AVOID_STATS = 'true';
  process.env.SE_OFFLINE = 'true';
  const { Builder } = await import('selenium-webdriver');
  const stops = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    let driver;
    if (engine === 'firefox') {
      const firefox = await import('selenium-webdriver/firefox.js');
      const options = new firefox.Options().addArguments('-headless').setBinary(FIREFOX).enableBidi();
      for (const [k, v] of Object.entries(camera ? cameraPrefs(camera) : {})) options.setPreference(k, v);
      driver = await new Builder().forBrowser('firefox').setFirefoxOptions(options)
        .setFirefoxService(new firefox.ServiceBuilder(GECKODRIVER)).build();
    } else if (engine === 'webkit') {
      const display = await startXvfb(stops);
      const port = await freePort();
      const server = spawn(WEBKIT_DRIVER, [`--port=${port}`], { env: { ...process.env, DISPLAY: display }, stdio: 'ignore' });
      stops.push(() => stopProcess(server));
      await waitForPort(port);
      driver = await new Builder().usingServer(`http://127.0.0.1:${port}`).withCapabilities({
        browserName: 'MiniBrowser',
        'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
      }).build();
    } else {
      throw new Error(`engine must be one of ${ENGINES.join(', ')}, not ${engine}`);
    }
    stops.push(() => driver.quit());
    // The size of Chromium's viewport in the other suites (MiniBrowser opens smaller, and covers buttons).
    await driver.manage().window().setRect({ width: 1280, height: 900 });
    const page = new Page(driver);
    if (engine === 'firefox') await listenBidi(driver, page);
    const check = async (what) => {
      const problems = await page.problems();
      if (problems.length) throw new Error(`${what} (${engine}): ${problems.join('; ')}`);
    };
    // A benchmark row runs for seconds inside one script call (WebDriver's default limit is 30 s).
    await driver.manage().setTimeouts({ script: 600_000 });
    // browser.mjs's openPage() for this engine's one page: goes to `url`, waits for `ready`.
    const open = async (url, { ready, timeout = 60_000 } = {}) => {
      await page.goto(url);
      if (ready) await page.waitForSelector(ready, { timeout });
      return { page, check, close: () => page.goto('about:blank') };
    };
    return { page, engine, close: stop, check, open };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Firefox speaks WebDriver BiDi: every console error, uncaught exception and request (workers' too) of
 * every page, from the first byte of each load.
 */
async function listenBidi(driver, page) {
  const bidi = await driver.getBidi();
  await bidi.subscribe('log.entryAdded');
  await bidi.subscribe('network.beforeRequestSent');
  (await bidi.socket).on('message', (message) => {
    const { method, params } = JSON.parse(String(message));
    if (method === 'log.entryAdded' && params.level === 'error') page.errors.push(params.text);
    if (method === 'network.beforeRequestSent') page.requests.push(params.request.url);
  });
  page.bidi = true;
}

/**
 * What the tests need of a page, as playwright names it. Selectors are CSS; page functions are sent as
 * source and called with one argument, as playwright does. What went wrong: in Firefox, from BiDi (see
 * listenBidi); in WebKitGTK, which has no BiDi, what the page logs (console.error, uncaught errors,
 * unhandled rejections) from the moment each goto() returns, and the resources in its Resource Timing
 * (the CSP, connect-src 'self', blocks any request off this machine during the load too).
 */
class Page {
  #driver;
  #reported = 0;
  bidi = false;
  errors = [];
  requests = [];

  constructor(driver) {
    this.#driver = driver;
  }

  async goto(url) {
    await this.#collectErrors();
    await this.#driver.get(url);
    this.#reported = 0;
    if (!this.bidi) await this.#driver.executeScript(LISTEN);
  }

  /** `fn(arg)` in the page; a returned promise is awaited (W3C execute script does). */
  evaluate(fn, arg = null) {
    const source = typeof fn === 'function' ? `return (${fn})(arguments[0]);` : `return (${fn});`;
    return this.#driver.executeScript(source, arg);
  }

  async waitForFunction(fn, arg = null, { timeout = 30_000 } = {}) {
    await this.#driver.wait(async () => Boolean(await this.evaluate(fn, arg)), timeout, `waiting for ${fn}`);
  }

  async waitForSelector(selector, { timeout = 30_000 } = {}) {
    await this.waitForFunction((s) => document.querySelector(s) !== null, selector, { timeout });
  }

  /** Scrolls the element to the middle first: WebDriver scrolls it to an edge, where a sticky header covers it. */
  async click(selector) {
    const element = await this.#find(selector);
    await this.#driver.executeScript('arguments[0].scrollIntoView({ block: "center" })', element);
    await element.click();
  }

  textContent(selector) {
    return this.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);
  }

  isVisible(selector) {
    return this.evaluate((s) => {
      const e = document.querySelector(s);
      return Boolean(e && !e.hidden && e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden');
    }, selector);
  }

  $$eval(selector, fn) {
    return this.evaluate(`((s) => (${fn})([...document.querySelectorAll(s)]))(${JSON.stringify(selector)})`);
  }

  async selectOption(selector, value) {
    await this.evaluate(([s, v]) => {
      const e = document.querySelector(s);
      e.value = v;
      e.dispatchEvent(new Event('input', { bubbles: true }));
      e.dispatchEvent(new Event('change', { bubbles: true }));
    }, [selector, value]);
  }

  /** Files by path, or {name, buffer} written to a temporary folder first (as playwright takes them). */
  async setInputFiles(selector, files) {
    const list = Array.isArray(files) ? files : [files];
    const dir = mkdtempSync(join(tmpdir(), 'mnw-upload-'));
    try {
      const paths = list.map((f) => {
        if (typeof f === 'string') return f;
        const path = join(dir, f.name);
        writeFileSync(path, f.buffer);
        return path;
      });
      await (await this.#find(selector)).sendKeys(paths.join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async screenshot({ path }) {
    writeFileSync(path, Buffer.from(await this.#driver.takeScreenshot(), 'base64'));
  }

  /** The errors logged so far, and resources fetched off this machine (the page's Resource Timing entries). */
  async problems() {
    await this.#collectErrors();
    const urls = this.bidi
      ? this.requests
      : await this.evaluate(() => [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)]);
    const outside = urls.filter((u) => !u.startsWith('about:') && !isLocal(u));
    return [...this.errors, ...outside.map((u) => `request to ${u}`)];
  }

  async #collectErrors() {
    if (this.bidi) return;
    const logged = await this.#driver.executeScript('return globalThis.__mnwErrors ?? []').catch(() => []);
    this.errors.push(...logged.slice(this.#reported));
    this.#reported = logged.length;
  }

  async #find(selector) {
    const { By } = await import('selenium-webdriver');
    return this.#driver.findElement(By.css(selector));
  }
}

// Installed after every navigation: what the page logs as an error from then on.
const LISTEN = `
  const errors = (globalThis.__mnwErrors = []);
  addEventListener('error', (e) => errors.push(String(e.message ?? e)));
  addEventListener('unhandledrejection', (e) => errors.push(String(e.reason?.message ?? e.reason)));
  const log = console.error.bind(console);
  console.error = (...args) => { errors.push(args.map(String).join(' ')); log(...args); };`;

// ---------------------------------------------------------------------------------------------------------
// Processes

/** A private X display for MiniBrowser: Xvfb picks a free number and writes it to us (-displayfd). */
function startXvfb(stops) {
  return new Promise((resolve, reject) => {
    const xvfb = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1280x900x24', '-nolisten', 'tcp'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    stops.push(() => stopProcess(xvfb));
    let out = '';
    xvfb.on('error', reject);
    xvfb.on('exit', (code) => reject(new Error(`Xvfb exited (${code}) before it named its display`)));
    xvfb.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
  });
}

function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill();
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Waits (up to 10 s) until something listens on `port`. */
async function waitForPort(port) {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/status`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing listens on port ${port}`);
}
