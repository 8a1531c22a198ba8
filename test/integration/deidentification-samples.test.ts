/**
 * Real DICOM files through the de-identification gate at ingest, on the
 * embedded stack: the files sit in s3rver and the gate reads them with real
 * ranged GETs, as in AWS.
 *
 * Samples: the Debian package `python3-pydicom` (checked with 2.3.1-1), which
 * ships pydicom's own test data in
 * /usr/lib/python3/dist-packages/pydicom/data/test_files/:
 * - CT_small.dcm — a GE CT slice, explicit VR little endian, with GE private groups;
 * - MR_small.dcm, MR_small_implicit.dcm, MR_small_bigendian.dcm — one MR slice in
 *   explicit LE, implicit LE and explicit big endian;
 * - MR_truncated.dcm — the same MR, cut inside its pixel data (the header is whole);
 * - test-SR.dcm — a structured report: no pixel data, nested content sequences;
 * - priv_SQ.dcm — implicit VR, a private sequence holding a standard attribute;
 * - rtplan_truncated.dcm — an RT plan cut inside its header;
 * - image_dfl.dcm — deflated explicit VR little endian.
 * None of them is de-identified (none declares Patient Identity Removed), so
 * the gate must name what identifies in each. What it says (Basic Profile, no
 * option accepted, UIDs not required):
 * - CT_small: 32 findings — patient name, ID, sex, age, weight, Other Patient IDs
 *   Sequence; study/series/acquisition/content dates and times; institution,
 *   station; study description, image comments, contrast agent; 9 GE private groups;
 *   with re-generated UIDs required, 6 more (its UIDs are the original ones);
 * - MR_small (all three syntaxes) and MR_truncated: the same 16 findings;
 * - test-SR: patient name, dates, the verifying observer and the content tree
 *   (D attributes kept, and the file declares no Basic Profile);
 * - priv_SQ: a Referring Physician's Name inside its private sequence, and the
 *   private group;
 * - rtplan_truncated: unreadable, truncated; image_dfl: refused, deflated.
 * When the files are missing, the test installs the package if it runs as root
 * with apt-get (as in CI), and otherwise fails with the command to run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import dicomParser from 'dicom-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseInput, ProtocolVersionInput } from '../../functions/domain/index.js';
import { NotFoundError } from '../../functions/use-cases/errors.js';
import { ingestCases, registerProtocolVersion } from '../../functions/use-cases/setup-program.js';
import { type LocalStack, startLocalStack } from '../../infra/local/stack.js';
import { buildDicom } from '../support/dicom.js';

const PACKAGE = 'python3-pydicom';
const SAMPLES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const FILES = [
  'CT_small.dcm',
  'MR_small.dcm',
  'MR_small_implicit.dcm',
  'MR_small_bigendian.dcm',
  'MR_truncated.dcm',
  'test-SR.dcm',
  'priv_SQ.dcm',
  'rtplan_truncated.dcm',
  'image_dfl.dcm',
] as const;
const INSTALL = `apt-get install -y --no-install-recommends ${PACKAGE}`;

/** Finds the sample files; installs the package when they are missing and this process may. */
function locateSamples(): void {
  const missing = () => FILES.filter((f) => !existsSync(`${SAMPLES}/${f}`));
  if (missing().length === 0) return;
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (canInstall) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      execFileSync('apt-get', INSTALL.split(' ').slice(1), { env, stdio: 'ignore' });
    } catch {
      // A fresh machine may have no package lists yet.
      execFileSync('apt-get', ['update'], { env, stdio: 'ignore' });
      execFileSync('apt-get', INSTALL.split(' ').slice(1), { env, stdio: 'ignore' });
    }
  }
  if (missing().length > 0) {
    throw new Error(
      `DICOM samples missing from ${SAMPLES} (${missing().join(', ')}): install them with \`sudo ${INSTALL}\``,
    );
  }
}

const protocol = (version: number, deidentification: ProtocolVersionInput['deidentification']): ProtocolVersionInput => ({
  protocolId: 'samples',
  version,
  title: 'DICOM samples through the gate',
  task: { type: 'classification', classes: ['normal', 'abnormal'] },
  thresholds: { goldAccuracy: 0.8 },
  goldRate: 0.1,
  batchSize: 10,
  slaHours: 24,
  routing: { rules: [], default: { pool: 'vendor', qualifications: [] } },
  deidentification,
  createdBy: 'pm:test',
  createdAt: '2026-11-28T00:00:00Z',
});

const caseOf = (caseId: string, imageKey: string, seriesKeys?: string[]): CaseInput => ({
  caseId,
  imageKey,
  ...(seriesKeys ? { seriesKeys } : {}),
  modality: 'CT',
  bodyPart: 'CHEST',
  site: 'site-1',
  deidentified: true,
});

/** The case id a sample file gets. */
const idOf = (file: string) => file.replace(/\.dcm$/, '').toLowerCase().replace(/_/g, '-');

describe('De-identification gate: real DICOM samples from Debian python3-pydicom', () => {
  let stack: LocalStack;
  /** Case id → findings, per program: `basic` (Basic Profile, no option) and `strict-uids` (all options accepted, UIDs under 2.25.). */
  const findings: Record<'basic' | 'strict-uids', Map<string, string[]>> = { basic: new Map(), 'strict-uids': new Map() };

  beforeAll(async () => {
    locateSamples();
    stack = await startLocalStack();
    const { deps } = stack;
    for (const file of FILES) {
      await deps.objects.putBytes(deps.buckets.images, `images/samples/${file}`, readFileSync(`${SAMPLES}/${file}`), 'application/dicom');
    }
    await registerProtocolVersion(deps, protocol(1, {}));
    await registerProtocolVersion(
      deps,
      protocol(2, {
        acceptedOptions: ['retainPatientCharacteristics', 'retainLongitudinalFullDates', 'retainInstitutionIdentity', 'retainDeviceIdentity', 'retainSafePrivate'],
        requireRegeneratedUids: { root: '2.25.' },
      }),
    );
    const cases = FILES.map((f) => caseOf(idOf(f), `images/samples/${f}`));
    for (const [program, version] of [['basic', 1], ['strict-uids', 2]] as const) {
      await ingestCases(deps, { programId: `samples-${program}`, protocolId: 'samples', protocolVersion: version, cases, gold: [] });
      for (const c of await deps.repo.listCases(`samples-${program}`)) findings[program].set(c.caseId, c.deidentificationFindings);
    }
  }, 300_000);
  afterAll(async () => stack?.stop());

  /** `(gggg,eeee) Name` of each finding, from its sentence. */
  const places = (caseId: string, program: 'basic' | 'strict-uids' = 'basic') =>
    (findings[program].get(caseId) ?? []).map((f) => f.match(/(?:in group|keeps an original UID in|still carries) (.*?\(\w{4},\w{4}\))/)?.[1] ?? f);

  it('CT_small.dcm: names the patient, the dates, the institution and station, and the GE private groups', () => {
    const got = places('ct-small');

    expect(got).toEqual(
      expect.arrayContaining([
        "Patient's Name (0010,0010)",
        'Patient ID (0010,0020)',
        'Study Date (0008,0020)',
        'Content Date (0008,0023)',
        'Institution Name (0008,0080)',
        'Station Name (0008,1010)',
        "Patient's Age (0010,1010)",
        '(0009,XXXX)',
        '(0043,XXXX)',
      ]),
    );
    expect(got).toHaveLength(32);
  });

  it('never repeats a value from the file in its findings', () => {
    const dataSet = dicomParser.parseDicom(new Uint8Array(readFileSync(`${SAMPLES}/CT_small.dcm`)), { untilTag: 'x7fe00010' });
    const text = findings.basic.get('ct-small')!.join('\n');

    for (const tag of ['x00100010', 'x00100020', 'x00080080', 'x00081010']) {
      const value = dataSet.string(tag);
      expect(value && value.length > 3).toBe(true);
      expect(text).not.toContain(value);
    }
  });

  it('MR_small: the same findings whatever the transfer syntax (explicit LE, implicit LE, explicit big endian)', () => {
    const explicit = findings.basic.get('mr-small');

    expect(places('mr-small')).toEqual([
      'Instance Creation Date (0008,0012)',
      'Instance Creation Time (0008,0013)',
      'Study Date (0008,0020)',
      'Study Time (0008,0030)',
      'Institution Name (0008,0080)',
      'Timezone Offset From UTC (0008,0201)',
      'Station Name (0008,1010)',
      'Name of Physician(s) Reading Study (0008,1060)',
      "Operators' Name (0008,1070)",
      "Patient's Name (0010,0010)",
      'Patient ID (0010,0020)',
      "Patient's Sex (0010,0040)",
      "Patient's Weight (0010,1030)",
      'Device Serial Number (0018,1000)',
      'Study ID (0020,0010)',
      'Image Comments (0020,4000)',
    ]);
    expect(findings.basic.get('mr-small-implicit')).toEqual(explicit);
    expect(findings.basic.get('mr-small-bigendian')).toEqual(explicit);
  });

  it('MR_truncated.dcm: cut inside its pixels, the header is whole and judged like MR_small', () => {
    expect(findings.basic.get('mr-truncated')).toEqual(findings.basic.get('mr-small'));
  });

  it('test-SR.dcm: a report with no pixel data; its observer, dates and content tree are findings', () => {
    expect(places('test-sr')).toEqual(
      expect.arrayContaining([
        "Patient's Name (0010,0010)",
        'Verifying Observer Name (0040,A075)',
        'Verification DateTime (0040,A030)',
        'Content Sequence (0040,A730)',
        'Content Date (0008,0023)',
      ]),
    );
  });

  it('priv_SQ.dcm: finds the Referring Physician\'s Name inside a private sequence dicom-parser leaves as bytes', () => {
    expect(places('priv-sq')).toEqual(["Referring Physician's Name (0008,0090)", '(3F03,XXXX)']);
  });

  it('rtplan_truncated.dcm and image_dfl.dcm: refused as unreadable, each with its reason', () => {
    expect(findings.basic.get('rtplan-truncated')).toEqual(['image is not a readable DICOM file: the header is truncated: the file ends in the middle of an element']);
    expect(findings.basic.get('image-dfl')).toEqual([
      'image is not a readable DICOM file: deflated transfer syntax (1.2.840.10008.1.2.1.99) is not accepted; re-encode the file uncompressed',
    ]);
  });

  it('options the program accepts change nothing for files that do not declare them; original UIDs are named when re-generated UIDs are required', () => {
    const strict = findings['strict-uids'].get('ct-small')!;

    // Every Basic Profile finding stands: the file declares no option …
    expect(places('ct-small', 'strict-uids').filter((p) => !/UID \(/.test(p))).toEqual(places('ct-small'));
    // … with the accepted options now marked "accepted … not declared in the file".
    expect(strict.find((f) => f.startsWith("header still carries Patient's Sex"))).toContain(
      'Retain Patient Characteristics Option (113108, keep: not declared in the file, accepted by the program)',
    );
    expect(places('ct-small', 'strict-uids').filter((p) => /UID/.test(p))).toEqual([
      'Media Storage SOP Instance UID (0002,0003)',
      'Instance Creator UID (0008,0014)',
      'SOP Instance UID (0008,0018)',
      'Study Instance UID (0020,000D)',
      'Series Instance UID (0020,000E)',
      'Frame of Reference UID (0020,0052)',
    ]);
  });
});

describe('De-identification gate at ingest: series and long headers on the embedded S3', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => stack?.stop());

  it('checks every file of a series, naming the file of each finding, and reads a header longer than 256 KiB whole', async () => {
    // Arrange: three slices; the second keeps a name, the third has a 300 KiB palette before its requesting physician.
    const { deps } = stack;
    const clean = { PatientName: '', PatientIdentityRemoved: 'YES', Modality: 'CT' };
    const slices = {
      'images/series-1/1.dcm': buildDicom({ elements: clean, pixels: new Uint8Array(16), rows: 4, columns: 4 }),
      'images/series-1/2.dcm': buildDicom({ elements: { ...clean, PatientName: 'Doe^Jane' }, pixels: new Uint8Array(16), rows: 4, columns: 4 }),
      'images/series-1/3.dcm': buildDicom({
        elements: { ...clean, RedPaletteColorLookupTableData: { vr: 'OW', value: new Uint8Array(300 * 1024) }, RequestingPhysician: 'House^G' },
        pixels: new Uint8Array(16),
        rows: 4,
        columns: 4,
      }),
    };
    for (const [key, bytes] of Object.entries(slices)) await deps.objects.putBytes(deps.buckets.images, key, bytes, 'application/dicom');
    const [first, ...rest] = Object.keys(slices);

    // Act
    const result = await ingestCases(deps, {
      programId: 'series',
      protocolId: 'samples',
      cases: [caseOf('series-1', first, [...rest, 'images/series-1/4.dcm']), caseOf('single-1', first)],
      gold: [],
    });

    // Assert
    const cases = new Map((await deps.repo.listCases('series')).map((c) => [c.caseId, c]));
    expect(result.gated).toBe(1);
    expect(cases.get('single-1')!.deidentificationFindings).toEqual([]);
    expect(cases.get('series-1')!.deidentificationFindings).toEqual([
      expect.stringMatching(/^images\/series-1\/2\.dcm: header still carries Patient's Name \(0010,0010\)/),
      expect.stringMatching(/^images\/series-1\/3\.dcm: header still carries Requesting Physician \(0032,1032\)/),
      'images/series-1/4.dcm: image images/series-1/4.dcm not found: its header cannot be checked',
    ]);
  });

  it('refuses to ingest under a protocol version that does not exist, storing nothing', async () => {
    const { deps } = stack;

    await expect(
      ingestCases(deps, { programId: 'no-protocol', protocolId: 'samples', protocolVersion: 99, cases: [caseOf('c-1', 'images/x.dcm')], gold: [] }),
    ).rejects.toThrow(new NotFoundError('protocol samples@99 not found'));
    expect(await deps.repo.listCases('no-protocol')).toEqual([]);
  });
});
