/**
 * Once per `npm test`, before any test file: the rendering tests (the dossier's
 * PDF, the QA dashboard) need Debian's Chromium. On a fresh machine where this
 * process is root and has apt-get, install it here, once — not in each test
 * file, whose parallel installs would fight over dpkg's lock. Otherwise leave
 * it: a rendering test then fails with the install command (test/support/chromium.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_INSTALL_COMMAND } from './support/chromium-install.js';

export default function installChromiumIfMissing(): void {
  const path = process.env.GOLDLINE_CHROMIUM ?? '/usr/bin/chromium';
  if (existsSync(path) || process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const args = CHROMIUM_INSTALL_COMMAND.split(' ').slice(1);
  process.stdout.write(`Chromium missing: ${CHROMIUM_INSTALL_COMMAND}\n`);
  try {
    execFileSync('apt-get', args, { env, stdio: 'ignore' });
  } catch {
    // A fresh machine may have no package lists yet.
    execFileSync('apt-get', ['update'], { env, stdio: 'ignore' });
    execFileSync('apt-get', args, { env, stdio: 'ignore' });
  }
}
