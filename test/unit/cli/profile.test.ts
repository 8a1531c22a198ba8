import { describe, expect, it } from 'vitest';
import { readCaseManifest } from '../../../infra/cli/cases.js';
import { type Profile, UsageError, parseProfile, resolveConnection } from '../../../infra/cli/profile.js';

const profile: Profile = { endpoint: 'http://127.0.0.1:8787', program: 'demo-cxr', tokens: { pm: 'pm-token', 'vendor-a': 'a-token' } };
const enc = (s: string) => new TextEncoder().encode(s);

describe('Function: resolveConnection', () => {
  it("takes the profile's endpoint and the token of the command's default user", () => {
    expect(resolveConnection({}, 'pm', profile, 'p.json', {})).toEqual({ endpoint: 'http://127.0.0.1:8787', token: 'pm-token', user: 'pm', program: 'demo-cxr' });
  });

  it('prefers --as to the default user, and --endpoint/--token to everything', () => {
    expect(resolveConnection({ as: 'vendor-a' }, 'pm', profile, 'p.json', {}).token).toBe('a-token');
    const c = resolveConnection({ endpoint: 'https://api.example.test/', token: 'jwt' }, 'pm', profile, 'p.json', { GOLDLINE_TOKEN: 'env' });
    expect(c).toMatchObject({ endpoint: 'https://api.example.test', token: 'jwt' });
    expect(resolveConnection({}, 'pm', undefined, 'p.json', { GOLDLINE_ENDPOINT: 'http://127.0.0.1:1', GOLDLINE_TOKEN: 'env' }).token).toBe('env');
  });

  it('says what is missing: the endpoint, a token for the user (naming the ones the profile has), or who you are', () => {
    expect(() => resolveConnection({}, 'pm', undefined, 'p.json', {})).toThrow(/no API endpoint: pass --endpoint URL, or start the local stack with `npm start -- --serve`/);
    expect(() => resolveConnection({ as: 'vendor-c' }, 'pm', profile, 'p.json', {})).toThrow('profile p.json has no token for "vendor-c" (it has: pm, vendor-a)');
    expect(() => resolveConnection({}, undefined, profile, 'p.json', {})).toThrow(/say who you are: --as USER/);
    expect(() => resolveConnection({ endpoint: 'ftp://x' }, 'pm', profile, 'p.json', {})).toThrow(UsageError);
  });
});

describe('Function: parseProfile', () => {
  it('names the field that is wrong', () => {
    expect(() => parseProfile('{', 'p.json')).toThrow(/profile p.json is not JSON/);
    expect(() => parseProfile('{"endpoint":"nope","tokens":{}}', 'p.json')).toThrow(/^profile p.json: endpoint: /);
  });
});

describe('Function: readCaseManifest', () => {
  it('reads CSV columns into case fields, flags, subgroups and gold labels', () => {
    const m = readCaseManifest(
      enc('caseId,imageKey,modality,bodyPart,site,deidentified,flags.sensitive,subgroup.sex,goldLabel,goldExpert\nc-1,images/c-1.pgm,CR,CHEST,north,true,no,F,abnormal,expert:dr\nc-2,images/c-2.pgm,DX,CHEST,south,TRUE,,,,\n'),
      'cases.csv',
    );
    expect(m.cases).toEqual([
      { caseId: 'c-1', imageKey: 'images/c-1.pgm', modality: 'CR', bodyPart: 'CHEST', site: 'north', deidentified: true, flags: { sensitive: false }, subgroup: { sex: 'F' } },
      { caseId: 'c-2', imageKey: 'images/c-2.pgm', modality: 'DX', bodyPart: 'CHEST', site: 'south', deidentified: true },
    ]);
    expect(m.gold).toEqual([{ caseId: 'c-1', label: 'abnormal', expertId: 'expert:dr' }]);
  });

  it('refuses an unknown column, a boolean that is not one, and a gold label without its expert, naming where', () => {
    expect(() => readCaseManifest(enc('caseId,colour\nc-1,red\n'), 'a.csv')).toThrow('a.csv: unknown column "colour"');
    expect(() => readCaseManifest(enc('caseId,deidentified\nc-1,true\nc-2,maybe\n'), 'a.csv')).toThrow('a.csv line 3: deidentified must be true or false (got "maybe")');
    expect(() => readCaseManifest(enc('{"caseId":"c-1","goldLabel":"normal"}\n'), 'a.jsonl')).toThrow('a.jsonl: case c-1 has goldLabel but no goldExpert');
    expect(() => readCaseManifest(enc('caseId,site\n"c-1,north\n'), 'a.csv')).toThrow(/a\.csv: line 2: a quoted field is not closed/);
  });
});
