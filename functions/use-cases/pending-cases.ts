/**
 * A program's pending cases, read from the sharded case-state index a page at a
 * time (docs/data-model.md, "Case state by state"): never the program's whole
 * case list. Round planning (PlanRound and its preview) and the quarantine list
 * read them here.
 */
import type { Deps, PageRequest } from './ports.js';

export type StoredCase = Awaited<ReturnType<Deps['repo']['listCases']>>[number];

/** Cases per read of the case-state index. */
const READ_PAGE = 1_000;

/** Every pending case of the program, a read page at a time (the sharded case-state index, by case id). */
export async function* pendingReads(deps: Deps, programId: string): AsyncGenerator<StoredCase[]> {
  let after: PageRequest['after'];
  do {
    const page = await deps.repo.listCasesByState(programId, 'pending', { limit: READ_PAGE, ...(after ? { after } : {}) });
    yield page.items;
    after = page.next;
  } while (after);
}

/** The program's gold-pool cases (a first pass over the pending cases: gold is never assigned). */
export async function goldPoolCases(deps: Deps, programId: string): Promise<StoredCase[]> {
  const gold: StoredCase[] = [];
  for await (const items of pendingReads(deps, programId)) gold.push(...items.filter((c) => c.goldPool));
  return gold;
}

/**
 * The program's pending work cases, oldest (lowest id) first, at most `limit`,
 * in plan pages of PLAN_PAGE_CASES, each with whether it is the last: memory
 * holds two plan pages, never the program's case list.
 */
export async function* pendingPages(deps: Deps, programId: string, limit: number | undefined, pageCases: number): AsyncGenerator<{ cases: StoredCase[]; last: boolean }> {
  const max = limit ?? Number.POSITIVE_INFINITY;
  let taken = 0;
  let page: StoredCase[] = [];
  let ready: StoredCase[] | undefined;
  for await (const items of pendingReads(deps, programId)) {
    for (const c of items) {
      if (c.goldPool || taken >= max) continue;
      page.push(c);
      taken++;
      if (page.length === pageCases) {
        if (ready) yield { cases: ready, last: false };
        ready = page;
        page = [];
      }
    }
    if (taken >= max) break;
  }
  if (ready) yield { cases: ready, last: page.length === 0 };
  if (page.length > 0) yield { cases: page, last: true };
}
