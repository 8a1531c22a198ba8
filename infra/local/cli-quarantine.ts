/**
 * `npm run goldline -- quarantine …`: the PM resolves what the de-identification
 * gate held back, on the embedded stack's state in a data directory (the one
 * `npm start -- --data-dir DIR` keeps). Each command starts the stack on that
 * directory, calls one use case of functions/use-cases/quarantine.ts (the HTTP
 * API will call the same ones), prints what it did and stops the stack.
 *
 *   quarantine list                                     [--program ID] [--protocol ID@V] --data-dir DIR
 *   quarantine release CASE --reason "…" --by pm:NAME   [--program ID] [--protocol ID@V] --data-dir DIR
 *   quarantine replace CASE FILE [--by pm:NAME]         [--program ID] [--protocol ID@V] --data-dir DIR
 *
 * Exit codes as the rest of the CLI: 0 ok, 1 refused (unknown case, not
 * quarantined, bad input), 2 usage.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConflictError, InvalidInputError, NotFoundError } from '../../functions/use-cases/errors.js';
import type { Deps } from '../../functions/use-cases/ports.js';
import {
  MAX_REPLACEMENT_BYTES,
  currentProtocolRef,
  listQuarantined,
  releaseQuarantinedCase,
  replaceQuarantinedImage,
} from '../../functions/use-cases/quarantine.js';
import { PROGRAM_ID } from './demo/example-program.js';

export const QUARANTINE_USAGE = `Usage: npm run goldline -- quarantine <command> [arguments] --data-dir DIR

Commands:
  list                                        each quarantined case with the gate's findings
  release CASE --reason "…" --by pm:NAME      release a case with a recorded reason (the ledger names who and why);
                                              it is then routed like any other case, to vendors too
  replace CASE FILE [--by pm:NAME]            replace the case's image; the new one is gated again and
                                              the case leaves quarantine only if it passes

Options:
  --data-dir DIR       the embedded stack's state (as kept by npm start -- --data-dir DIR)
  --program ID         the program (default: ${PROGRAM_ID}, the demo's)
  --protocol ID@V      the protocol version (default: the one its latest round ran)
  -h, --help           show this text`;

const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

export interface QuarantineCliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  readBytes?: (path: string) => Promise<Uint8Array>;
}

/** The embedded stack the commands run on; a test may pass its own opener. */
export type StackOpener = (dataDir: string) => Promise<{ deps: Deps; stop: () => Promise<void> }>;

const openEmbeddedStack: StackOpener = async (dataDir) => {
  const { startLocalStack } = await import('./stack.js');
  return startLocalStack({ dataDir });
};

/**
 * Runs one quarantine command; returns the exit code.
 *
 * @example await runQuarantineCli(['release', 'case-00017', '--reason', 'vendor name', '--by', 'pm:ana', '--data-dir', '.goldline'], io) // 0
 */
export async function runQuarantineCli(argv: readonly string[], io: QuarantineCliIo, open: StackOpener = openEmbeddedStack): Promise<number> {
  let values: { 'data-dir'?: string; program?: string; protocol?: string; reason?: string; by?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'data-dir': { type: 'string' },
        program: { type: 'string' },
        protocol: { type: 'string' },
        reason: { type: 'string' },
        by: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  const [command, ...args] = positionals;
  if (values.help) {
    io.out(QUARANTINE_USAGE);
    return EXIT.ok;
  }
  const arity: Record<string, number> = { list: 0, release: 1, replace: 2 };
  if (!command) return usage(io, 'no quarantine command given');
  if (!(command in arity)) return usage(io, `unknown quarantine command "${command}"`);
  if (args.length !== arity[command]) {
    return usage(io, `quarantine ${command} takes ${['no argument', 'a case id', 'a case id and an image file'][arity[command]]} (got ${args.length})`);
  }
  if (!values['data-dir']) return usage(io, '--data-dir DIR is required: the directory npm start -- --data-dir DIR keeps its state in');
  if (command === 'release' && (!values.reason || !values.by)) return usage(io, 'quarantine release needs --reason "…" and --by pm:NAME');
  if (command !== 'release' && values.reason !== undefined) return usage(io, `--reason belongs to quarantine release, not ${command}`);
  const dataDir = resolve(values['data-dir']);
  if (!existsSync(join(dataDir, 'dynamodb')) || !existsSync(join(dataDir, 's3'))) {
    io.err(`no Goldline state in ${dataDir}: run npm start -- --data-dir ${values['data-dir']} first (or name the right directory)`);
    return EXIT.refused;
  }

  let image: Uint8Array | undefined;
  if (command === 'replace') {
    const read = await readImage(args[1], io);
    if (typeof read === 'string') {
      io.err(read);
      return EXIT.refused;
    }
    image = read;
  }

  const stack = await open(dataDir);
  try {
    const deps = stack.deps;
    const programId = values.program ?? PROGRAM_ID;
    const protocol = values.protocol ?? (await currentProtocolRef(deps, programId));
    if (!protocol) {
      io.err(`program ${programId} has dispatched no round yet, so its protocol is unknown: pass --protocol ID@VERSION`);
      return EXIT.refused;
    }
    switch (command) {
      case 'list': {
        const list = await listQuarantined(deps, { programId, protocol });
        io.out(`Quarantine of program ${programId} under ${list.protocol}: ${list.cases.length} case(s)`);
        if (list.onDeidentificationFailure !== 'quarantine') {
          io.out(`  (${list.protocol} keeps cases the gate stops internal: routing.onDeidentificationFailure is "${list.onDeidentificationFailure}")`);
        }
        for (const c of list.cases) {
          io.out(`  ${c.caseId}  ${c.imageKey}  rule ${c.ruleId}${c.goldPool ? '  (gold)' : ''}`);
          for (const p of c.problems) io.out(`      - ${p}`);
        }
        if (list.releases.length > 0) {
          io.out(`Released (from the ledger): ${list.releases.length}`);
          for (const r of list.releases) io.out(`  ${r.caseId}  by ${r.by} at ${r.at}: ${r.reason} (overrides ${r.overrides.length} finding(s))`);
        }
        return EXIT.ok;
      }
      case 'release': {
        const r = await releaseQuarantinedCase(deps, { programId, protocol, caseId: args[0], by: values.by!, reason: values.reason! });
        io.out(`Released ${r.caseId} by ${values.by}: overrides ${r.overrides.length} finding(s); ledger event ${r.eventId}`);
        for (const p of r.overrides) io.out(`      - ${p}`);
        io.out('  From the next round it is routed like any other case, to vendors too.');
        return EXIT.ok;
      }
      default: {
        const by = values.by ?? `pm:${userInfo().username.replace(/[^A-Za-z0-9._@-]/g, '-').slice(0, 64) || 'unknown'}`;
        const r = await replaceQuarantinedImage(deps, { programId, protocol, caseId: args[0], by, image: image! });
        io.out(`Replaced the image of ${r.caseId} by ${by}: now ${r.imageKey}`);
        if (!r.quarantined) io.out('  The new image passes the de-identification gate: the case leaves quarantine.');
        else {
          io.out(`  Still quarantined: ${r.problems.length} problem(s)`);
          for (const p of r.problems) io.out(`      - ${p}`);
        }
        return EXIT.ok;
      }
    }
  } catch (e) {
    if (e instanceof NotFoundError || e instanceof ConflictError || e instanceof InvalidInputError) {
      io.err(`refused: ${e.message}`);
      return EXIT.refused;
    }
    throw e;
  } finally {
    await stack.stop();
  }
}

function usage(io: QuarantineCliIo, message: string): number {
  io.err(`error: ${message}\n`);
  io.err(QUARANTINE_USAGE);
  return EXIT.usage;
}

/** The replacement image's bytes, or why they cannot be read (size checked before reading). */
async function readImage(path: string, io: QuarantineCliIo): Promise<Uint8Array | string> {
  try {
    if (!io.readBytes) {
      const size = statSync(path).size;
      if (size > MAX_REPLACEMENT_BYTES) return `cannot read ${path}: ${size} bytes, more than a replacement image may have (2 GiB)`;
    }
    return await (io.readBytes ?? ((p: string) => readFile(p)))(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}`;
  }
}
