/**
 * The demo's statements: after the rounds, the PM issues each vendor its
 * statement for the run through the API (as `goldline statement issue` does),
 * prints it (as `goldline statement show` does), and every issued statement is
 * recomputed from the ledger and compared to the stored one, to the cent.
 */
import type { Statement } from '../../../functions/domain/index.js';
import type { Deps } from '../../../functions/use-cases/ports.js';
import { recomputeStatements, type StatementCheck } from '../../../functions/use-cases/statements.js';
import { ApiClient } from '../../cli/client.js';
import { formatStatement } from '../../cli/statement.js';
import type { ApiServer } from '../api-server.js';

const DAY = 24 * 3_600_000;

/** The run's period: from the day (UTC) of the program's first ledger event to the end of today (the demo clock's). */
export function runPeriod(firstEventAt: string, now: Date): { from: string; to: string } {
  const floor = (t: number) => Math.floor(t / DAY) * DAY;
  return { from: new Date(floor(Date.parse(firstEventAt))).toISOString(), to: new Date(floor(now.getTime()) + DAY).toISOString() };
}

export interface DemoStatements {
  statements: { statement: Statement; key: string; sha256: string }[];
  checks: StatementCheck[];
}

/** Issues and prints each vendor's statement for the run, then checks every issued statement against the ledger. */
export async function issueDemoStatements(api: ApiServer, deps: Deps, programId: string, log?: (line: string) => void): Promise<DemoStatements | undefined> {
  const first = (await deps.repo.listLedgerPage(programId, { limit: 1 })).items[0];
  if (!first) return undefined;
  const period = runPeriod(first.at, deps.clock.now());
  const pm = new ApiClient(api.url, await api.issuer.issueToken('pm'), { fetch });
  const vendors = (await deps.repo.listWorkforces(programId)).filter((w) => w.kind === 'vendor').map((w) => w.workforceId);
  const statements: DemoStatements['statements'] = [];
  for (const w of vendors) {
    const r = await pm.call<{ statement: Statement; issued: { data: { key: string; sha256: string } } }>(
      'POST',
      `/v1/programs/${encodeURIComponent(programId)}/workforces/${encodeURIComponent(w)}/statements`,
      { body: period },
    );
    statements.push({ statement: r.statement, key: r.issued.data.key, sha256: r.issued.data.sha256 });
  }
  const checks = await recomputeStatements(deps, programId);
  log?.(formatDemoStatements({ statements, checks }));
  return { statements, checks };
}

/** The lines the demo prints for its statements. */
export function formatDemoStatements(d: DemoStatements): string {
  const out = ['━━ Statements ━━'];
  for (const s of d.statements) {
    out.push(...formatStatement(s.statement));
    out.push(`  issued: ${s.key} · SHA-256 ${s.sha256}`);
  }
  const bad = d.checks.filter((c) => !c.hashMatches || !c.recomputedMatches);
  out.push(
    bad.length === 0
      ? `Recomputed from the ledger: ${d.checks.length} issued statement(s) equal to the stored ones, to the cent`
      : `Recomputed from the ledger: ${bad.length} of ${d.checks.length} differ: ${bad.map((c) => `${c.statementId} (stored ${c.storedTotalCents}, ledger ${c.recomputedTotalCents})`).join('; ')}`,
  );
  return out.join('\n');
}
