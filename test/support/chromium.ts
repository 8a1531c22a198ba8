/**
 * Debian's Chromium for tests that render pages (the dossier's PDF; issue 12's
 * dashboard): found at /usr/bin/chromium (or GOLDLINE_CHROMIUM), driven by
 * playwright-core, which never downloads a browser. A missing Chromium fails
 * the test with the command that installs it: a rendering test never skips.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';

import { CHROMIUM_INSTALL_COMMAND } from './chromium-install.js';

export { CHROMIUM_INSTALL_COMMAND };

/**
 * Flags for a closed network and a root user: no sandbox (root), no GPU, and no
 * background connections (update checks, sync, field trials) that the machine's
 * closed network would refuse, many at a time.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium executable, or an error naming the one-line install. */
export function chromiumExecutable(): string {
  const path = process.env.GOLDLINE_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(`Chromium not found at ${path}: install it with \`${CHROMIUM_INSTALL_COMMAND}\` (as root), or set GOLDLINE_CHROMIUM to its path`);
  }
  return path;
}

/**
 * Runs `use` with a page of a fresh headless Chromium (its own empty user-data
 * directory), then closes the browser and removes the directory, whatever `use` did.
 *
 * @example await withChromiumPage(async (page) => { await page.setContent(html); return page.pdf(); })
 */
export async function withChromiumPage<T>(use: (page: Page) => Promise<T>): Promise<T> {
  const executablePath = chromiumExecutable();
  const profile = mkdtempSync(join(tmpdir(), 'goldline-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: [...CHROMIUM_ARGS], timeout: 60_000 });
    const page = context.pages()[0] ?? (await context.newPage());
    return await use(page);
  } finally {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * Pages of a PDF as Chromium writes it: its page objects (`/Type /Page`, not
 * the `/Type /Pages` tree nodes). Chromium (Skia) writes page dictionaries
 * uncompressed, so the count is exact for its output.
 */
export function countPdfPages(pdf: Uint8Array): number {
  const text = Buffer.from(pdf).toString('latin1');
  return (text.match(/\/Type\s*\/Page(?![A-Za-z])/g) ?? []).length;
}
