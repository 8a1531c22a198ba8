import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CASES_DOCUMENT_LIMITS, type CliIo, EXIT, FileTooLargeError, parseCasesDocument, runCli } from '../../../infra/local/cli.js';

const V1 = 'examples/protocols/chest-xray.v1.yaml';
const V2 = 'examples/protocols/chest-xray.v2.yaml';
const SAMPLE = 'examples/cases/chest-xray.sample.jsonl';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npx tsx infra/local/cli.ts …` as a user runs it (what `npm run goldline --` does). */
function runProcess(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'infra/local/cli.ts', ...args], { cwd: process.cwd(), env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Collects what runCli prints; files come from a map (or fail like a missing file). */
function memoryIo(files: Record<string, string> = {}): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (t) => stdout.push(t),
    err: (t) => stderr.push(t),
    readText: async (path, maxBytes) => {
      if (!(path in files)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      if (Buffer.byteLength(files[path]) > maxBytes) throw new FileTooLargeError(Buffer.byteLength(files[path]), maxBytes);
      return files[path];
    },
  };
}

const CASE = { imageKey: 'images/x.dcm', modality: 'CR', bodyPart: 'CHEST', site: 'site-a', deidentified: true };

describe('CLI: npm run goldline (spawned)', () => {
  let dir: string;
  const runs: Record<string, Run> = {};

  beforeAll(async () => {
    // Arrange: one process per scenario, all started at once to keep the suite fast.
    dir = await mkdtemp(join(tmpdir(), 'goldline-cli-'));
    const badProtocol = join(dir, 'bad.yaml');
    const badCases = join(dir, 'bad.jsonl');
    await writeFile(badProtocol, 'protocolId: chest-xray\nversion: 0\n');
    await writeFile(badCases, `${JSON.stringify({ caseId: 'case-1', ...CASE })}\n{"caseId": "case-2", "modality": "CR"}\nnot json\n`);
    const scenarios: Record<string, string[]> = {
      validate: ['validate', V2],
      validateBad: ['validate', badProtocol],
      diff: ['diff', V1, V2],
      dryRun: ['dry-run', V2, SAMPLE],
      dryRunBad: ['dry-run', V2, badCases],
      usage: [],
    };
    await Promise.all(
      Object.entries(scenarios).map(async ([name, args]) => {
        runs[name] = await runProcess(args);
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('Command: validate', () => {
    it('exits 0 and prints OK with a summary when the protocol is valid', () => {
      expect(runs.validate.code).toBe(EXIT.ok);
      const lines = runs.validate.stdout.split('\n');
      expect(lines[0]).toBe(`OK  ${V2}`);
      expect(lines[1]).toBe('chest-xray@2 — Chest X-ray triage: normal vs abnormal');
      expect(lines).toContain('  routing  5 rules, first match wins:');
    });

    it('exits 1 and lists every problem with its path when the protocol is invalid', () => {
      expect(runs.validateBad.code).toBe(EXIT.invalid);
      expect(runs.validateBad.stderr).toMatch(/^INVALID {2}\S+bad\.yaml: \d+ problems$/m);
      expect(runs.validateBad.stderr).toContain('  - version: must be greater than 0, got 0 (line 2)');
      expect(runs.validateBad.stderr).toContain('  - goldRate: required field is missing (expected a number)');
    });
  });

  describe('Command: diff', () => {
    it('exits 0 and prints one line per change between the two versions', () => {
      expect(runs.diff.code).toBe(EXIT.ok);
      const lines = runs.diff.stdout.trim().split('\n');
      expect(lines[0]).toBe('chest-xray@1 → chest-xray@2: 7 changes');
      expect(lines).toContain('changed  goldRate: 0.1 → 0.15');
      expect(lines).toContain('changed  thresholds.goldAccuracy: 0.85 → 0.9');
      expect(lines).toContain(
        'added    routing.rules[id=rare-disease-stays-inside] at position 3: when flags.rare is true → internal [radiologist, thoracic] — "suspected rare disease is read by our thoracic radiologists"',
      );
    });
  });

  describe('Command: dry-run', () => {
    it('exits 0 and explains every sample case, then the summary per rule', () => {
      expect(runs.dryRun.code).toBe(EXIT.ok);
      const out = runs.dryRun.stdout;
      expect(out).toMatch(/^Dry run: 12 cases through chest-xray@2/);
      expect(out).toMatch(/^case-0003 → internal \(rule "sensitive-stays-inside"\): /m);
      expect(out).toMatch(/^case-0007 → internal \(rule "adult-cxr-to-vendors"\): .*de-identification gate: no de-identification attestation/m);
      expect(out).toMatch(/^case-0008 → exclude \(rule "out-of-scope-excluded"\): /m);
      expect(out).toMatch(/^adult-cxr-to-vendors +vendor +4$/m);
      expect(out).toMatch(/^total +12$/m);
    });

    it('exits 1 and names every bad line of the cases file by number', () => {
      expect(runs.dryRunBad.code).toBe(EXIT.invalid);
      expect(runs.dryRunBad.stderr).toContain('  - line 2: imageKey: required field is missing (expected text)');
      expect(runs.dryRunBad.stderr).toMatch(/^ {2}- line 3: not valid JSON/m);
      expect(runs.dryRunBad.stdout).toBe('');
    });
  });

  describe('usage', () => {
    it('exits 2 with the usage text when no command is given', () => {
      expect(runs.usage.code).toBe(EXIT.usage);
      expect(runs.usage.stderr).toContain('error: no command given');
      expect(runs.usage.stderr).toContain('Usage: npm run goldline -- <command> [arguments]');
    });
  });
});

describe('Function: runCli (in process)', () => {
  it('exits 2 naming the expected arguments when a command gets the wrong number of files', async () => {
    // Arrange
    const io = memoryIo();

    // Act
    const code = await runCli(['diff', 'a.yaml'], io);

    // Assert
    expect(code).toBe(EXIT.usage);
    expect(io.stderr[0]).toBe('error: diff takes 2 files: diff <old-protocol> <new-protocol> (got 1)\n');
  });

  it('exits 2 on an unknown command or option, and 0 with the usage text on --help', async () => {
    expect(await runCli(['lint', 'a.yaml'], memoryIo())).toBe(EXIT.usage);
    expect(await runCli(['validate', '--strict', 'a.yaml'], memoryIo())).toBe(EXIT.usage);
    const io = memoryIo();
    expect(await runCli(['--help'], io)).toBe(EXIT.ok);
    expect(io.stdout[0]).toMatch(/^Usage: npm run goldline -- <command>/);
  });

  it('exits 1 when a file cannot be read', async () => {
    // Arrange
    const io = memoryIo();

    // Act
    const code = await runCli(['validate', 'missing.yaml'], io);

    // Assert
    expect(code).toBe(EXIT.invalid);
    expect(io.stderr).toEqual(['cannot read missing.yaml: no such file']);
  });

  // Issue 7 finding 10: `goldline dry-run` over 150,000 cases died with "Maximum call stack size exceeded"; a JSON array of them took 2 GB to read.
  it.each(['cases.jsonl', 'cases.json'])('routes 150,000 cases from %s and prints every decision and the totals', async (name) => {
    // Arrange
    const rows = Array.from({ length: 150_000 }, (_, i) => ({ caseId: `case-${String(i).padStart(6, '0')}`, ...CASE, flags: { sensitive: i % 10 === 0 } }));
    const text = name.endsWith('.jsonl') ? rows.map((r) => JSON.stringify(r)).join('\n') : JSON.stringify(rows);
    const io = memoryIo({ 'p.yaml': readFileSync(V2, 'utf8'), [name]: text });

    // Act
    const code = await runCli(['dry-run', 'p.yaml', name], io);

    // Assert
    expect(io.stderr).toEqual([]);
    expect(code).toBe(EXIT.ok);
    const out = io.stdout.join('\n');
    expect(out).toMatch(/^Dry run: 150000 cases through chest-xray@2/);
    expect(out).toMatch(/^case-149999 → vendor \(rule "adult-cxr-to-vendors"\)/m);
    expect(out).toMatch(/^sensitive-stays-inside +internal +15000$/m);
    expect(out).toMatch(/^total +150000$/m);
  });

  it('exits 1 without reading a protocol or cases file over its size limit', async () => {
    // Arrange
    const io = memoryIo({ 'big.yaml': `# ${'x'.repeat(2 * 1024 * 1024)}\n` });

    // Act
    const code = await runCli(['validate', 'big.yaml'], io);

    // Assert
    expect(code).toBe(EXIT.invalid);
    expect(io.stderr).toEqual(['cannot read big.yaml: the file is 2,097,155 bytes, over the limit of 262,144 bytes: it is not read']);
    expect(CASES_DOCUMENT_LIMITS.maxBytes).toBeGreaterThan(150_000 * 200);
  });

  it('prints warnings about unknown fields on stderr and still exits 0', async () => {
    // Arrange
    const text = readFileSync(V1, 'utf8').replace('goldRate: 0.10', 'goldRate: 0.10\ngoldrate: 0.2');
    const io = memoryIo({ 'p.yaml': text });

    // Act
    const code = await runCli(['validate', 'p.yaml'], io);

    // Assert
    expect(code).toBe(EXIT.ok);
    expect(io.stderr).toEqual([expect.stringMatching(/^warning: p\.yaml: goldrate: unknown field, ignored/)]);
  });
});

describe('Function: parseCasesDocument', () => {
  it('reads a JSON array of cases and names a bad item with its line', () => {
    // Arrange
    const text = JSON.stringify([{ caseId: 'case-1', ...CASE }, { caseId: 'case-2', ...CASE, flags: { rare: 'yes' } }], null, 2);

    // Act
    const result = parseCasesDocument(text, 'cases.json');

    // Assert
    expect(result).toEqual({ ok: false, problems: ['cases[1] (line 10): flags.rare: expected true or false, got the text "yes" (line 18)'] });
  });

  it('returns problems, never throws, for arbitrary text, deep nesting and non-finite numbers', () => {
    // Act / Assert
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'binary' }), fc.constantFrom('cases.jsonl', 'cases.json', 'cases.txt'), (text, name) => {
        const result = parseCasesDocument(text, name);
        expect(result.ok || result.problems.length > 0).toBe(true);
      }),
      { numRuns: 300 },
    );
    const deep = `{"caseId": "case-1", "subgroup": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const shallow = parseCasesDocument(deep, 'cases.jsonl');
    expect(shallow.ok).toBe(false);
    if (!shallow.ok) expect(shallow.problems).toContain('line 1: subgroup: expected a mapping of keys to values, got a list');
    expect(parseCasesDocument(`[${deep}]`, 'cases.json')).toEqual({ ok: false, problems: [expect.stringMatching(/^\[0\]\.subgroup\[0\](\[0\])+: the document nests deeper than 32 levels here: it is not read$/)] });
    expect(parseCasesDocument(JSON.stringify([{ caseId: 'case-1', ...CASE }]).replace('"site-a"', '1e400'), 'cases.json')).toEqual({
      ok: false,
      problems: ['[0].site: 1e400 is not a finite number (line 1)'],
    });
  });

  it('reports a case id that appears twice, with both places', () => {
    // Arrange
    const row = JSON.stringify({ caseId: 'case-1', ...CASE });

    // Act
    const result = parseCasesDocument(`${row}\n\n${row}\n`, 'cases.jsonl');

    // Assert
    expect(result).toEqual({ ok: false, problems: ['line 3: caseId "case-1" appears again (first at line 1)'] });
  });

  it('detects JSON Lines or an array by content, and rejects an empty file', () => {
    // Arrange
    const row = { caseId: 'case-1', ...CASE };

    // Act / Assert
    expect(parseCasesDocument(`${JSON.stringify(row)}\n`, 'cases.txt')).toMatchObject({ ok: true, cases: [{ caseId: 'case-1' }] });
    expect(parseCasesDocument(JSON.stringify([row]), 'cases.txt')).toMatchObject({ ok: true, cases: [{ caseId: 'case-1' }] });
    expect(parseCasesDocument('\n\n', 'cases.jsonl')).toEqual({ ok: false, problems: ['the file holds no cases'] });
  });
});
