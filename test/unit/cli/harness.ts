/**
 * The CLI with captured output, a profile held in memory and a fetch the test
 * answers: nothing leaves the process. Every CLI test uses this one.
 */
import { type GoldlineIo, processIo } from '../../../infra/cli/io.js';
import { runGoldline } from '../../../infra/cli/program.js';

export interface CliRequest {
  url: URL;
  method: string;
  body: unknown;
}

const EMPTY = () => Response.json({});

/**
 * `tokens` are the profile's, by role; null: no profile file (the command line names endpoint, token and program).
 *
 * @example const { run, requests } = cliHarness(() => Response.json({ items: [] })); await run('exam', 'status', '--protocol', 'chest-xray@2');
 */
export function cliHarness(
  answer: (url: URL, init: RequestInit) => Response | Promise<Response> = EMPTY,
  tokens: Record<string, string> | null = { pm: 'pm-token' },
) {
  const out: string[] = [];
  const err: string[] = [];
  const requests: CliRequest[] = [];
  const profile = tokens && JSON.stringify({ endpoint: 'http://127.0.0.1:9', program: 'demo-cxr', tokens });
  const io: GoldlineIo = {
    ...processIo,
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    errRaw: () => {},
    errIsTTY: false,
    env: {},
    readBytes: async (path) => {
      if (path === '.goldline/local.json' && profile) return new TextEncoder().encode(profile);
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    },
    fetch: async (input, init = {}) => {
      const url = new URL(String(input));
      requests.push({ url, method: init.method ?? 'GET', body: init.body ? JSON.parse(String(init.body)) : undefined });
      return answer(url, init);
    },
  };
  const run = async (...argv: string[]) => ({ code: await runGoldline(argv, io), out: out.splice(0).join('\n'), err: err.splice(0).join('\n') });
  return { run, requests };
}
