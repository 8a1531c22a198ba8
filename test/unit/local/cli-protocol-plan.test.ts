import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  acceptanceOf,
  goldCountFor,
  goldPoolNeed,
  ocCurve,
  parseProtocolDocument,
  singleSamplingPlan,
  sprtDesign,
  sprtOcCurve,
} from '../../../functions/domain/index.js';
import { type CliIo, EXIT, runCli } from '../../../infra/local/cli.js';

const EXAMPLES = ['examples/protocols/chest-xray.v1.yaml', 'examples/protocols/chest-xray.v2.yaml'];
const read = (f: string) => readFileSync(new URL(`../../../${f}`, import.meta.url), 'utf8');

function memoryIo(files: Record<string, string>): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (t) => stdout.push(...t.split('\n')),
    err: (t) => stderr.push(...t.split('\n')),
    readText: async (path) => {
      if (!(path in files)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return files[path];
    },
  };
}

const fixed4 = (x: number) => x.toFixed(4);
const prob = (x: number): string => (x === 1 ? '1' : x >= 0.0001 ? x.toFixed(4) : x.toExponential(1));
const row = (lines: string[], label: string): string[] => {
  const line = lines.find((l) => l.slice(12, 22).trim() === label.trim());
  if (!line) throw new Error(`no "${label}" row in:\n${lines.join('\n')}`);
  return line.slice(12 + 10).trim().split(/\s+/);
};

describe('goldline protocol plan', () => {
  for (const file of EXAMPLES) {
    it(`prints the plan, OC table and gold pool of ${file} as the domain computes them`, async () => {
      const parsed = parseProtocolDocument(read(file), { filename: file });
      if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
      const p = parsed.protocol;
      const io = memoryIo({ [file]: read(file) });
      expect(await runCli(['protocol', 'plan', file, '--batches', '20', '--vendors', '2'], io)).toBe(EXIT.ok);
      const out = io.stdout;
      const spec = { aql: p.acceptance?.aql ?? 0.95, rql: p.acceptance?.rql ?? 0.8, alpha: p.acceptance?.alpha ?? 0.05, beta: p.acceptance?.beta ?? 0.1 };
      const single = singleSamplingPlan(spec);
      const g = goldCountFor(p.batchSize, p.goldRate);
      const sprt = sprtDesign(spec, g);
      expect(acceptanceOf(p).sprt.maxItems).toBe(sprt.maxItems);
      const text = out.join('\n');
      expect(text).toContain(`rule        ${p.acceptance?.rule ?? 'sprt'}`);
      expect(text).toContain(`${single.n} gold items per batch, accept with ≤ ${single.c} wrong; exact α=${fixed4(single.risks.alpha)}, β=${fixed4(single.risks.beta)}`);
      expect(text).toContain(`${g} gold items per batch, pooled over a vendor's batches`);
      expect(text).toContain(`decides by ${sprt.maxItems} items (${Math.ceil(sprt.maxItems / g)} batches) with ≤ ${sprt.terminalC} wrong`);
      expect(text).toContain(`exact α=${fixed4(sprt.risks.alpha)} per decision / ${fixed4(sprt.batchRisks.alpha)} per batch, β=${fixed4(sprt.risks.beta)}`);
      expect(row(out, 'accuracy')).toEqual(['0.50', '0.55', '0.60', '0.65', '0.70', '0.75', '0.80', '0.85', '0.90', '0.95', '1.00']);
      expect(row(out, 'single')).toEqual(ocCurve(single).map((o) => prob(o.pAccept)));
      expect(row(out, 'SPRT ')).toEqual(sprtOcCurve(sprt).map((o) => prob(o.pAccept)));
      const poolSingle = goldPoolNeed(single, { cases: 20 * p.batchSize, batchSize: p.batchSize, vendors: 2 }, p.goldReuseCap);
      const poolSprt = goldPoolNeed({ n: g }, { cases: 20 * p.batchSize, batchSize: p.batchSize, vendors: 2 }, p.goldReuseCap);
      expect(text).toContain(
        `single plan ${poolSingle.poolForReuseCap} gold cases (${poolSingle.poolWithoutRepeats} never to repeat one); SPRT ${poolSprt.poolForReuseCap} (${poolSprt.poolWithoutRepeats})`,
      );
      expect(text).toContain(`internal teams get ${goldCountFor(p.batchSize, acceptanceOf(p).goldRates.internal)} blind gold per batch`);
    });
  }

  it('refuses bad options and unplannable specs with a specific message', async () => {
    const file = EXAMPLES[0];
    const io = memoryIo({ [file]: read(file) });
    expect(await runCli(['protocol', 'plan', file, '--batches', 'x'], io)).toBe(EXIT.usage);
    expect(io.stderr.join('\n')).toMatch(/--batches must be a whole number ≥ 1, got "x"/);
    expect(await runCli(['protocol', 'plan', file, '--batches', '2', '--volume', '9'], io)).toBe(EXIT.usage);
    const capped = read(file).replace('  rule: sprt\n', '  rule: sprt\n  maxSprtItems: 14\n');
    const io2 = memoryIo({ 'capped.yaml': capped });
    expect(await runCli(['protocol', 'plan', 'capped.yaml'], io2)).toBe(EXIT.invalid);
    expect(io2.stderr.join('\n')).toMatch(/no plan: .*truncated at 70 gold items, more than maxSprtItems 14/);
  });

  it('validate prints a migration note for a document without an acceptance section, and none with one', async () => {
    const file = EXAMPLES[0];
    const old = read(file).replace(/^acceptance:\n(?: {2}.*\n|#.*\n| *\n)*?(?=\n#|\nthresholds)/m, '');
    expect(old).not.toMatch(/^acceptance:/m);
    const io = memoryIo({ 'old.yaml': old, [file]: read(file) });
    expect(await runCli(['validate', 'old.yaml'], io)).toBe(EXIT.ok);
    expect(io.stdout.join('\n')).toMatch(/migration chest-xray@1 has no acceptance section: it is decided with the defaults \(rule sprt, AQL 0\.95, RQL 0\.80/);
    io.stdout.length = 0;
    expect(await runCli(['validate', file], io)).toBe(EXIT.ok);
    expect(io.stdout.join('\n')).not.toMatch(/migration/);
  });

  it('the dry run prints the plan for the cases it routes to vendors', async () => {
    const file = EXAMPLES[1];
    const cases = read('examples/cases/chest-xray.sample.jsonl');
    const io = memoryIo({ [file]: read(file), 'cases.jsonl': cases });
    expect(await runCli(['dry-run', file, 'cases.jsonl'], io)).toBe(EXIT.ok);
    const text = io.stdout.join('\n');
    const vendor = Number(/by pool: .*vendor (\d+)/.exec(text)?.[1]);
    expect(text).toContain(`Acceptance plan of chest-xray@2: batches of 60 cases, goldRate 0.15, gold reuse cap 3; planned volume ${vendor} cases`);
    expect(text).toMatch(/^OC {10}accuracy/m);
  });
});

describe('goldline pm protocol plan', () => {
  it('prints for a protocol file the same plan as the offline command', async () => {
    const file = EXAMPLES[0];
    const offline = memoryIo({ [file]: read(file) });
    expect(await runCli(['protocol', 'plan', file, '--volume', '600'], offline)).toBe(EXIT.ok);
    const lines: string[] = [];
    const { runGoldline } = await import('../../../infra/cli/program.js');
    const { processIo } = await import('../../../infra/cli/io.js');
    const code = await runGoldline(['pm', 'protocol', 'plan', file, '--volume', '600'], { ...processIo, out: (t) => lines.push(...t.split('\n')), err: (t) => lines.push(`ERR ${t}`) });
    expect(code).toBe(0);
    expect(lines).toEqual(offline.stdout);
  });
});
