/**
 * What the HTTP commands touch outside themselves: output streams, files and the
 * network. Tests pass their own (captured output, a temp dir); the process gets
 * `processIo`.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from './profile.js';

export interface GoldlineIo {
  /** One line of output (stdout). */
  out: (text: string) => void;
  /** One line of diagnostics (stderr). */
  err: (text: string) => void;
  /** Raw text to stderr (progress bars redraw a line with `\r`). */
  errRaw: (text: string) => void;
  /** Whether stderr is a terminal (progress bars are drawn only then). */
  errIsTTY: boolean;
  /** Reads a file, refusing one over `maxBytes` without reading it. */
  readBytes: (path: string, maxBytes: number) => Promise<Uint8Array>;
  /** Writes a file, creating its directory. */
  writeBytes: (path: string, bytes: Uint8Array | string) => Promise<void>;
  fetch: typeof fetch;
  env: Record<string, string | undefined>;
  /** Waits (polling a report); tests may shorten it. */
  sleep: (ms: number) => Promise<void>;
}

export const processIo: GoldlineIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  errRaw: (text) => process.stderr.write(text),
  errIsTTY: process.stderr.isTTY === true,
  readBytes: async (path, maxBytes) => {
    const { size } = await stat(path);
    if (size > maxBytes) throw new Error(`${path} is ${size} bytes, over the limit of ${maxBytes} bytes`);
    return new Uint8Array(await readFile(path));
  },
  writeBytes: async (path, bytes) => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
  },
  fetch: (input, init) => fetch(input, init),
  env: process.env,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** Reads a file the user named, within `maxBytes`; a file that cannot be read is a usage error saying why. */
export async function readInput(io: GoldlineIo, file: string, maxBytes: number, what = ''): Promise<Uint8Array> {
  try {
    return await io.readBytes(file, maxBytes);
  } catch (e) {
    throw new UsageError(`${what}cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}
