/**
 * Debian's Python 3 with the modules a baseline needs, as the reference scripts
 * use it (scripts/reference/regenerate.sh): /usr/bin/python3 with Debian's
 * packages. Missing modules are installed with apt-get when this process is
 * root and has it; otherwise the caller gets the command to run, to print as
 * "baseline unavailable: <command>". Never a silent skip.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = '/usr/bin/python3';

const importable = (modules: readonly string[]): boolean =>
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' }).status === 0;

/**
 * `{ python }` once `modules` import in {@link PYTHON}, installing `packages`
 * first if they do not and we may; else `{ unavailable }`: why, with the command.
 *
 * @example
 * const py = debianPython(['numpy', 'nibabel'], ['python3-numpy', 'python3-nibabel']);
 * if ('unavailable' in py) console.log(`baseline unavailable: ${py.unavailable}`);
 */
export function debianPython(modules: readonly string[], packages: readonly string[]): { python: string } | { unavailable: string } {
  if (importable(modules)) return { python: PYTHON };
  const command = `apt-get install -y --no-install-recommends python3 ${packages.join(' ')}`;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    return { unavailable: `${PYTHON} cannot import ${modules.join(', ')}: run ${command} as root` };
  }
  console.log(`installing the Python baseline: ${command}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const args = command.split(' ').slice(1);
  try {
    try {
      execFileSync('apt-get', args, { env, stdio: 'ignore' });
    } catch {
      // A fresh machine may have no package lists yet.
      execFileSync('apt-get', ['update'], { env, stdio: 'ignore' });
      execFileSync('apt-get', args, { env, stdio: 'ignore' });
    }
  } catch (e) {
    return { unavailable: `${command} failed (${(e as Error).message.split('\n')[0]})` };
  }
  return importable(modules) ? { python: PYTHON } : { unavailable: `${PYTHON} still cannot import ${modules.join(', ')} after ${command}` };
}
