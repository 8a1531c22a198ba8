import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_MANIFEST_BYTES, ManifestError, imageExtension, parseCaseManifest } from '../../../functions/domain/case-manifest.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const SHA = 'ab'.repeat(32);
const HEADER = 'caseId,modality,bodyPart,site,deidentified,flags.sensitive,subgroup.ageBand,image,imageSizeBytes,imageSha256,goldLabel,goldExpert';

describe('Function: parseCaseManifest (CSV)', () => {
  it('reads a header row, flags.* and subgroup.* columns, booleans in words, and optional gold', () => {
    const cases = parseCaseManifest(
      'csv',
      bytes(`${HEADER}\nc-1,CR,CHEST,site-a,yes,true,18-64,c1.dcm,2048,${SHA},,\nc-2,CR,CHEST,site-b,1,,65+,scans/c2.nii.gz,4096,${SHA.toUpperCase()},abnormal,dr-lead\n`),
    );
    expect(cases).toEqual([
      expect.objectContaining({ caseId: 'c-1', deidentified: true, flags: { sensitive: true }, subgroup: { ageBand: '18-64' }, image: { fileName: 'c1.dcm', sizeBytes: 2048, sha256Hex: SHA } }),
      expect.objectContaining({ caseId: 'c-2', flags: {}, gold: { label: 'abnormal', expertId: 'dr-lead' } }),
    ]);
    expect(cases[1].image.sha256Hex).toBe(SHA);
  });

  it('names each bad cell by line and column, and an unknown column with a suggestion', () => {
    const bad = `${HEADER}\nC 1,CR,CHEST,s,maybe,,,x.exe,-1,nothex,,\n`;
    const err = (() => {
      try {
        parseCaseManifest('csv', bytes(bad));
      } catch (e) {
        return e as ManifestError;
      }
    })();
    expect(err).toBeInstanceOf(ManifestError);
    expect(err?.problems.map((p) => p.path.join('.'))).toEqual(['line 2.deidentified', 'line 2.imageSizeBytes']);

    const second = `${HEADER}\nC 1,CR,CHEST,s,no,,,x.exe,12,nothex,,\n`;
    expect(() => parseCaseManifest('csv', bytes(second))).toThrow(/line 2\.caseId: .*line 2\.image: an image file name ending in .*line 2\.imageSha256/);
    expect(() => parseCaseManifest('csv', bytes('caseId,modalty\n'))).toThrow(/header\.modalty: unknown column: did you mean "modality"\?/);
    expect(() => parseCaseManifest('csv', bytes('caseId\nc-1\n'))).toThrow(/the column "modality" is missing/);
  });

  it('refuses a case id given twice', () => {
    const row = `c-1,CR,CHEST,s,yes,,,a.png,1,${SHA},,`;
    expect(() => parseCaseManifest('csv', bytes(`${HEADER}\n${row}\n${row}\n`))).toThrow(/cases\.1\.caseId: case c-1 is already row 1/);
  });

  it('refuses a manifest above the byte cap before reading it', () => {
    expect(() => parseCaseManifest('csv', new Uint8Array(MAX_MANIFEST_BYTES + 1))).toThrow(/more than the 8388608 accepted/);
  });

  it('never throws anything but a ManifestError on arbitrary text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.constantFrom('csv' as const, 'json' as const), (text, format) => {
        try {
          parseCaseManifest(format, bytes(text));
        } catch (e) {
          expect(e).toBeInstanceOf(ManifestError);
        }
      }),
    );
  });
});

describe('Function: parseCaseManifest (JSON)', () => {
  it('reads { cases: [...] } and refuses unknown fields, naming the path', () => {
    const c = { caseId: 'c-1', modality: 'MR', bodyPart: 'KNEE', site: 's', deidentified: true, image: { fileName: 'k.nii', sizeBytes: 10, sha256Hex: SHA } };
    expect(parseCaseManifest('json', bytes(JSON.stringify({ cases: [c] })))[0].caseId).toBe('c-1');
    expect(() => parseCaseManifest('json', bytes(JSON.stringify({ cases: [{ ...c, quarantineRelease: {} }] })))).toThrow(/cases\.0: Unrecognized key.*quarantineRelease/);
    expect(() => parseCaseManifest('json', bytes('{'))).toThrow(/not valid JSON/);
  });
});

describe('Function: imageExtension', () => {
  it('takes the longest allowed extension and nothing else', () => {
    expect(imageExtension('a.NII.GZ')).toBe('nii.gz');
    expect(imageExtension('a.dcm')).toBe('dcm');
    expect(imageExtension('../../a.dcm.exe')).toBeUndefined();
  });
});
