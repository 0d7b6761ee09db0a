// The drawing pad end to end in a real browser: starts `tiny-mnist serve`,
// draws known digits with the mouse in headless chromium, checks the answers
// the page shows (and the board's, with --device), draws letters (not digits),
// drops a photo and chooses
// it with the file input, sends garbage, and takes a screenshot.
//
//   node test.mjs TINY_MNIST SCREENSHOT.png [serve options, e.g. --device emu:lm3s6965evb]
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import puppeteer from 'puppeteer-core';

const [tinyMnist, screenshot, ...serveOptions] = process.argv.slice(2);
if (!tinyMnist || !screenshot) {
  console.error('usage: node test.mjs TINY_MNIST SCREENSHOT.png [serve options]');
  process.exit(2);
}
const server = spawn(tinyMnist, ['serve', '--port', '0', ...serveOptions], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/http:\/\/\S+\//);
    if (m) resolve(m[0]);
  });
  server.on('exit', (code) => reject(new Error(`tiny-mnist serve exited (${code})`)));
  setTimeout(() => reject(new Error('tiny-mnist serve printed no address in 120 s')), 120_000);
});

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu'],
});
let failures = 0;
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 820, height: 640 });
  await page.goto(url);
  const pad = await (await page.$('#pad')).boundingBox();

  // Strokes in the pad's own 280×280 coordinates.
  const circle = Array.from({ length: 33 }, (_, i) => [140 + 70 * Math.sin((i / 32) * 2 * Math.PI), 140 - 95 * Math.cos((i / 32) * 2 * Math.PI)]);
  const digits = {
    1: [[[150, 40], [130, 240]]],
    7: [[[70, 50], [210, 50], [120, 240]]],
    0: [circle],
  };
  // Each stroke (and each dropped picture) is one request: wait for the answer to the last one.
  const asked = () => page.evaluate(() => window.padAsked);
  async function draw(strokes) {
    await page.click('#clear');
    const before = await asked();
    for (const stroke of strokes) {
      const [x0, y0] = stroke[0];
      await page.mouse.move(pad.x + x0, pad.y + y0);
      await page.mouse.down();
      for (const [x, y] of stroke.slice(1)) await page.mouse.move(pad.x + x, pad.y + y, { steps: 12 });
      await page.mouse.up();
    }
    return answer(before + strokes.length);
  }
  async function answer(ticket) {
    await page.waitForFunction((t) => window.padAnswered >= t, {}, ticket);
    return page.evaluate(() => ({
      digit: document.getElementById('digit').textContent,
      message: document.getElementById('message').textContent,
      device: document.getElementById('device').textContent,
    }));
  }
  function check(what, ok, detail) {
    console.log(`${ok ? 'ok' : 'FAILED'}: ${what}${detail ? ` (${detail})` : ''}`);
    if (!ok) failures += 1;
  }

  function checkBoard(what, shown) {
    if (serveOptions.includes('--device')) {
      check(`the board agrees bit for bit on ${what}`, shown.device.includes('the same bits'), shown.device);
    }
  }

  for (const [digit, strokes] of Object.entries(digits)) {
    const shown = await draw(strokes);
    check(`a drawn ${digit} is read as ${digit}`, shown.digit === digit, JSON.stringify(shown));
    checkBoard(`the drawn ${digit}`, shown);
  }
  // A photo (a 4 in the DKG handwriting font, lit from one side, JPEG; made by
  // pictures::synthetic): dropped on the page, then chosen with the file input.
  const photo = new URL('./photo-4.jpg', import.meta.url).pathname;
  async function drop(file, type) {
    await page.click('#clear');
    const before = await asked();
    const path = new URL(`./${file}`, import.meta.url).pathname;
    await page.evaluate(async (base64, file, type) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const files = new DataTransfer();
      files.items.add(new File([bytes], file, { type }));
      const drop = new DragEvent('drop', { dataTransfer: files, bubbles: true, cancelable: true });
      document.getElementById('drop').dispatchEvent(drop);
    }, (await readFile(path)).toString('base64'), file, type);
    return answer(before + 1);
  }
  const dropped = await drop('photo-4.jpg', 'image/jpeg');
  check('a dropped photo of a 4 is read as 4', dropped.digit === '4', JSON.stringify(dropped));
  checkBoard('the dropped photo', dropped);
  await page.click('#clear');
  const beforeFile = await asked();
  await (await page.$('#file')).uploadFile(photo);
  const chosen = await answer(beforeFile + 1);
  check('the same photo chosen with the file input is read as 4', chosen.digit === '4', JSON.stringify(chosen));
  // A PNG with a transparent background (test image 3, a 0, as dark ink whose
  // alpha is the pixel) is read on white; a 7 cropped tight to its ink is read too.
  const transparent = await drop('transparent-0.png', 'image/png');
  check('a transparent PNG of a 0 is read as 0', transparent.digit === '0', JSON.stringify(transparent));
  const tight = await drop('tight-7.png', 'image/png');
  check('a 7 cropped tight to its ink is read as 7', tight.digit === '7', JSON.stringify(tight));
  // Letters drawn with the mouse are not digits: the shape check turns them away.
  const letters = {
    A: [[[70, 240], [140, 40], [210, 240]], [[100, 160], [180, 160]]],
    X: [[[70, 50], [210, 240]], [[210, 50], [70, 240]]],
    H: [[[80, 40], [80, 240]], [[200, 40], [200, 240]], [[80, 140], [200, 140]]],
  };
  for (const [letter, strokes] of Object.entries(letters)) {
    const shown = await draw(strokes);
    check(`a drawn ${letter} is not a digit`, shown.message.includes('does not look like a digit'), JSON.stringify(shown));
  }
  // A dot is not a digit.
  const dot = await draw([[[140, 140], [142, 141]]]);
  check('a dot is not a digit', dot.message.startsWith('not a digit'), JSON.stringify(dot));
  // Garbage instead of a picture: a clear error, and the server still answers afterwards.
  const garbage = await page.evaluate(async () => {
    const r = await fetch('/classify', { method: 'POST', body: 'not a picture' });
    return { status: r.status, body: await r.json() };
  });
  check('garbage gets a clear error', garbage.status === 400 && /decode/.test(garbage.body.error), JSON.stringify(garbage));
  const seven = await draw(digits[7]);
  check('the server still answers after garbage', seven.digit === '7', JSON.stringify(seven));
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
} finally {
  await browser.close();
  server.kill();
}
if (failures > 0) {
  console.error(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('drawing pad: every check passed');
