/**
 * `npm run goldline -- <command>`: check protocol documents before they govern a
 * round. Reads files, calls the pure functions of
 * functions/domain/protocol-document.ts, prints what they say.
 *
 *   validate <protocol.yaml|protocol.json>
 *   diff <old-protocol> <new-protocol>
 *   dry-run <protocol> <cases.jsonl|cases.json>
 *   quarantine list|release|replace …   (infra/local/cli-quarantine.ts)
 *   protocol plan <protocol> [--batches N | --volume N] [--vendors V]   (infra/local/cli-protocol.ts)
 *   pm|vendor|expert|qa|me …            the HTTP API, by role (infra/cli/program.ts)
 *
 * Also the `goldline` bin (bin/goldline.js runs `main`).
 *
 * Exit codes: 0 ok, 1 invalid input (bad document, unreadable file), 2 usage.
 */
import { readFile, stat } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { processIo as httpProcessIo } from '../cli/io.js';
import { parseArgs } from 'node:util';
import { Case } from '../../functions/domain/model/case.js';
import { type ProtocolVersion, protocolRef } from '../../functions/domain/model/protocol.js';
import {
  type DocumentLimits,
  decodeDocument,
  describeIssues,
  diffProtocolVersions,
  dryRunRouting,
  formatProtocolDiff,
  PROTOCOL_DOCUMENT_LIMITS,
  parseProtocolDocument,
  summarizeProtocol,
} from '../../functions/domain/protocol-document.js';
import { acceptanceMigrationNote } from '../../functions/domain/acceptance-protocol.js';
import { AcceptancePlanError, protocolPlanLines } from '../cli/protocol-plan.js';

/**
 * A cases file may be large (a dry run over a whole program's cases: 150,000
 * cases are about 25 MB of JSON Lines) but not unbounded. Nesting is the same
 * as a protocol's: a case is a flat record.
 */
export const CASES_DOCUMENT_LIMITS: DocumentLimits = { maxBytes: 256 * 1024 * 1024, maxDepth: 32, maxValues: 50_000_000 };

export const USAGE = `Usage: npm run goldline -- <command> [arguments]

Commands:
  validate <protocol.yaml|protocol.json>        check a protocol document; print a summary or every problem
  diff <old-protocol> <new-protocol>            list what changed from one protocol version to the next
  dry-run <protocol> <cases.jsonl|cases.json>   route sample cases through a protocol and explain each decision
  quarantine list|release|replace …             resolve cases the de-identification gate held back (quarantine --help)
  protocol plan <protocol> [--batches N|--volume N] [--vendors V]   the acceptance plan: n/c, SPRT, exact α/β, OC table, gold pool

Over the HTTP API (profile .goldline/local.json, written by \`npm start -- --serve\`; each has -h):
  pm protocol|dry-run|workforce|cases|round|assign|shares|quarantine …   program manager
  vendor batches|batch show|download|submit|report … --as vendor-a       vendor
  expert batches|…|adjudications list|show|decide …                     internal expert
  qa scorecards|batches|ledger|trace|export …                           QA lead
  trace <caseId> [--verify]                                             a case's trace: labels, lineage, decisions (QA)
  ledger verify                                                         check the ledger's hash chain; exit 1 naming each altered, deleted or moved event
  me                                                                    who your token says you are
  global options: --endpoint URL --token JWT --as USER --profile FILE --program ID --json

Options:
  -h, --help   show this text

Exit codes: 0 ok · 1 invalid input · 2 usage error
Protocol format: docs/protocol-format.md · examples: examples/protocols/, examples/cases/`;

export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Reads a UTF-8 file; refuses (FileTooLargeError) one over `maxBytes` without reading it. */
  readText: (path: string, maxBytes: number) => Promise<string>;
}

/** A file over the size a command reads. */
export class FileTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`the file is ${bytes.toLocaleString('en-US')} bytes, over the limit of ${maxBytes.toLocaleString('en-US')} bytes: it is not read`);
    this.name = 'FileTooLargeError';
  }
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  readText: async (path, maxBytes) => {
    const { size } = await stat(path);
    if (size > maxBytes) throw new FileTooLargeError(size, maxBytes);
    return readFile(path, 'utf8');
  },
};

class InputError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'InputError';
  }
}

/**
 * Runs one command; returns the exit code instead of exiting, so tests can call it.
 *
 * @example await runCli(['validate', 'examples/protocols/chest-xray.v2.yaml']) // 0
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  // The role commands talk to the API: infra/cli/program.ts (loaded only when used).
  if ((HTTP_GROUPS as readonly string[]).includes(argv[0])) {
    const { runGoldline } = await import('../cli/program.js');
    return runGoldline(argv, io === processIo ? undefined : { ...httpProcessIo, out: io.out, err: io.err });
  }
  // `quarantine …` has its own options and opens the embedded stack: infra/local/cli-quarantine.ts (loaded only when used).
  if (argv[0] === 'quarantine') return (await import('./cli-quarantine.js')).runQuarantineCli(argv.slice(1), io);
  // `protocol plan …` has its own options: infra/local/cli-protocol.ts.
  if (argv[0] === 'protocol') return (await import('./cli-protocol.js')).runProtocolCli(argv.slice(1), io);
  let positionals: string[];
  let help: boolean | undefined;
  try {
    ({ positionals, values: { help } } = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: { help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    return usageError(io, (e as Error).message);
  }
  const [command, ...files] = positionals;
  if (help || command === 'help') {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (!command) return usageError(io, 'no command given');
  const expected: Record<string, string[]> = {
    validate: ['<protocol>'],
    diff: ['<old-protocol>', '<new-protocol>'],
    'dry-run': ['<protocol>', '<cases>'],
  };
  const args = expected[command];
  if (!args) return usageError(io, `unknown command "${command}"`);
  if (files.length !== args.length) {
    return usageError(io, `${command} takes ${args.length === 1 ? 'one file' : `${args.length} files`}: ${command} ${args.join(' ')} (got ${files.length})`);
  }
  try {
    switch (command) {
      case 'validate':
        return await validateCommand(files[0], io);
      case 'diff':
        return await diffCommand(files[0], files[1], io);
      default:
        return await dryRunCommand(files[0], files[1], io);
    }
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    for (const line of e.problems) io.err(line);
    return EXIT.invalid;
  }
}

function usageError(io: CliIo, message: string): number {
  io.err(`error: ${message}\n`);
  io.err(USAGE);
  return EXIT.usage;
}

async function readInput(path: string, io: CliIo, maxBytes: number): Promise<string> {
  try {
    return await io.readText(path, maxBytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new InputError([`cannot read ${path}: ${why}`]);
  }
}

/** Reads and validates a protocol file; problems become an InputError naming the file. */
async function loadProtocol(path: string, io: CliIo): Promise<ProtocolVersion> {
  const parsed = parseProtocolDocument(await readInput(path, io, PROTOCOL_DOCUMENT_LIMITS.maxBytes), { filename: path });
  if (!parsed.ok) {
    const n = parsed.problems.length;
    throw new InputError([`INVALID  ${path}: ${n} problem${n === 1 ? '' : 's'}`, ...parsed.problems.map((p) => `  - ${p}`)]);
  }
  for (const w of parsed.warnings) io.err(`warning: ${path}: ${w}`);
  return parsed.protocol;
}

async function validateCommand(path: string, io: CliIo): Promise<number> {
  const protocol = await loadProtocol(path, io);
  io.out(`OK  ${path}`);
  io.out(summarizeProtocol(protocol));
  const note = acceptanceMigrationNote(protocol);
  if (note) io.out(`  migration ${note}`);
  return EXIT.ok;
}

async function diffCommand(pathA: string, pathB: string, io: CliIo): Promise<number> {
  const a = await loadProtocol(pathA, io);
  const b = await loadProtocol(pathB, io);
  const changes = diffProtocolVersions(a, b);
  io.out(`${protocolRef(a)} → ${protocolRef(b)}: ${changes.length} change${changes.length === 1 ? '' : 's'}`);
  io.out(formatProtocolDiff(changes));
  return EXIT.ok;
}

async function dryRunCommand(protocolPath: string, casesPath: string, io: CliIo): Promise<number> {
  const protocol = await loadProtocol(protocolPath, io);
  const parsed = parseCasesDocument(await readInput(casesPath, io, CASES_DOCUMENT_LIMITS.maxBytes), casesPath);
  if (!parsed.ok) {
    const n = parsed.problems.length;
    throw new InputError([`INVALID  ${casesPath}: ${n} problem${n === 1 ? '' : 's'}`, ...parsed.problems.map((p) => `  - ${p}`)]);
  }
  const routed = dryRunRouting(parsed.cases, protocol);
  io.out(routed.text);
  // The acceptance plan for the volume this dry run sends to vendors (one vendor: the worst case).
  const vendorCases = routed.decisions.filter((d) => d.route.pool === 'vendor').length;
  io.out('');
  try {
    for (const line of protocolPlanLines(protocol, { volume: vendorCases })) io.out(line);
  } catch (e) {
    if (!(e instanceof AcceptancePlanError)) throw e;
    throw new InputError([`no acceptance plan for ${protocolRef(protocol)}: ${e.message}`]);
  }
  return EXIT.ok;
}

/**
 * Cases from JSON Lines (one Case object per line; blank lines skipped) or a JSON
 * array, chosen by extension (`.jsonl`/`.ndjson`, `.json`) or else by content.
 * Every bad line is reported with its line number; duplicate case ids too.
 *
 * @example parseCasesDocument('{"caseId":"case-1", …}\n', 'cases.jsonl').ok
 */
export function parseCasesDocument(text: string, filename = ''): { ok: true; cases: Case[] } | { ok: false; problems: string[] } {
  const source = text.replace(/^\uFEFF/, '');
  const lower = filename.toLowerCase();
  const asArray = lower.endsWith('.json') || (!/\.(jsonl|ndjson)$/.test(lower) && source.trimStart().startsWith('['));
  const problems: string[] = [];
  const cases: Case[] = [];
  const firstSeen = new Map<string, () => string>();
  // `where` is a function: finding a line in a large JSON document costs a
  // second parse, paid only when there is a problem to report.
  const accept = (raw: unknown, where: () => string, issuesAt: (path: readonly PropertyKey[]) => string | undefined) => {
    const parsed = Case.safeParse(raw);
    if (!parsed.success) {
      const at = where();
      for (const p of describeIssues(parsed.error.issues, raw, issuesAt)) problems.push(`${at}: ${p}`);
      return;
    }
    const seen = firstSeen.get(parsed.data.caseId);
    if (seen) problems.push(`${where()}: caseId "${parsed.data.caseId}" appears again (first at ${seen()})`);
    else firstSeen.set(parsed.data.caseId, where);
    cases.push(parsed.data);
  };

  if (asArray) {
    const decoded = decodeDocument(source, { filename: 'cases.json', limits: CASES_DOCUMENT_LIMITS });
    if (!decoded.ok) return { ok: false, problems: decoded.problems };
    if (!Array.isArray(decoded.data)) return { ok: false, problems: ['expected a JSON array of cases (or JSON Lines: one case object per line)'] };
    decoded.data.forEach((raw, i) => {
      accept(
        raw,
        () => {
          const line = decoded.locate([i]);
          return `cases[${i}]${line ? ` (${line})` : ''}`;
        },
        (path) => decoded.locate([i, ...path]),
      );
    });
  } else {
    source.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (e) {
        problems.push(`line ${i + 1}: not valid JSON (${(e as Error).message.replace(/, ".*" is not valid JSON$/s, '')})`);
        return;
      }
      accept(raw, () => `line ${i + 1}`, () => undefined);
    });
  }
  if (problems.length) return { ok: false, problems };
  if (cases.length === 0) return { ok: false, problems: ['the file holds no cases'] };
  return { ok: true, cases };
}

/** The role groups of the HTTP commands (infra/cli/program.ts HTTP_GROUPS; kept here so offline runs do not load it). */
const HTTP_GROUPS = ['pm', 'vendor', 'expert', 'qa', 'me', 'trace', 'ledger', 'release', 'contract', 'statement'] as const;

/** Runs the command line and sets the exit code (the entry of `npm run goldline` and the `goldline` bin). */
export async function main(argv: readonly string[]): Promise<void> {
  // Output piped into `head` closes early: stop quietly, as other command-line tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
  process.exitCode = await runCli(argv);
}

const entry = process.argv[1];
const isMain = (() => {
  try {
    return entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
})();
if (isMain) await main(process.argv.slice(2));
