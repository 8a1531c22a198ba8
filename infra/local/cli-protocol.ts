/**
 * `goldline protocol plan <protocol.yaml|protocol.json> [--batches N | --volume N] [--vendors V]`:
 * the acceptance plan a protocol document gives, offline (no API): rule, single
 * plan n/c, SPRT boundaries and truncation, exact α/β, OC table, gold-pool need.
 * (`goldline pm protocol plan <id@version|file>` does the same for a registered version.)
 */
import { parseArgs } from 'node:util';
import { parseProtocolDocument, PROTOCOL_DOCUMENT_LIMITS } from '../../functions/domain/protocol-document.js';
import { AcceptancePlanError, PlanOptionError, protocolPlanLines } from '../cli/protocol-plan.js';

export const PROTOCOL_USAGE = `Usage: goldline protocol plan <protocol.yaml|protocol.json> [--batches N | --volume N] [--vendors V]

  --batches N   planned vendor batches (cases = N × the protocol's batchSize)
  --volume N    planned real cases for vendors
  --vendors V   vendors sharing the volume (default 1: the busiest vendor takes it all)

Prints the acceptance rule, the single sampling plan (n, c), the truncated SPRT
(boundaries, truncation), the exact α and β achieved, the OC curve for true
accuracy 0.50…1.00 and the gold pool the planned volume needs under the reuse cap.`;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  readText: (path: string, maxBytes: number) => Promise<string>;
}

const whole = (name: string, v: string | undefined, min: number): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new PlanOptionError(`${name} must be a whole number ≥ ${min}, got "${v}"`);
  return Number(v);
};

/** Runs `protocol …` (argv without the leading `protocol`); returns the exit code (0 ok, 1 invalid input, 2 usage). */
export async function runProtocolCli(argv: readonly string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { batches: { type: 'string' }, volume: { type: 'string' }, vendors: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  try {
    parsed = parse();
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n\n${PROTOCOL_USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  if (values.help) {
    io.out(PROTOCOL_USAGE);
    return 0;
  }
  const [sub, file, ...extra] = positionals;
  if (sub !== 'plan' || !file || extra.length) {
    io.err(`error: ${sub !== 'plan' ? `unknown protocol command "${sub ?? ''}"` : 'protocol plan takes one protocol file'}\n\n${PROTOCOL_USAGE}`);
    return 2;
  }
  let text: string;
  try {
    text = await io.readText(file, PROTOCOL_DOCUMENT_LIMITS.maxBytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    io.err(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    return 1;
  }
  const doc = parseProtocolDocument(text, { filename: file });
  if (!doc.ok) {
    io.err(`INVALID  ${file}: ${doc.problems.length} problem${doc.problems.length === 1 ? '' : 's'}`);
    for (const p of doc.problems) io.err(`  - ${p}`);
    return 1;
  }
  try {
    const lines = protocolPlanLines(doc.protocol, {
      batches: whole('--batches', values.batches, 1),
      volume: whole('--volume', values.volume, 0),
      vendors: whole('--vendors', values.vendors, 1),
    });
    for (const l of lines) io.out(l);
    return 0;
  } catch (e) {
    if (e instanceof PlanOptionError) {
      io.err(`error: ${e.message}\n\n${PROTOCOL_USAGE}`);
      return 2;
    }
    if (e instanceof AcceptancePlanError) {
      io.err(`no plan: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
