/**
 * The dashboard's reads of the Goldline API, each response parsed by its zod
 * schema (the quality report's schema is the API's own). One token, sent as a
 * bearer header; a refused or malformed answer is an ApiError naming the route.
 */
import { z } from 'zod';
import { QualityReport } from '../../functions/domain/quality/report-schema.js';

// The CSP allows no eval: zod's JIT (new Function) would be refused and logged.
z.config({ jitless: true });

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const Bounds = z.object({ lower: z.number(), upper: z.number() });
export const Me = z.looseObject({ username: z.string(), roles: z.array(z.string()) });
export const Scorecard = z.looseObject({
  workforceId: z.string(),
  protocolId: z.string(),
  batches: z.number(),
  batchesAccepted: z.number(),
  batchesRejected: z.number(),
  goldN: z.number(),
  goldCorrect: z.number(),
  accuracy: z.number().nullable(),
  interval: Bounds.nullable(),
  insufficient: z.boolean(),
  slaAdherence: z.number().nullable(),
  acceptedCases: z.number(),
  costPerAcceptedCase: z.number().nullable(),
});
export type Scorecard = z.infer<typeof Scorecard>;
export const Batch = z.looseObject({
  batchId: z.string(),
  round: z.number(),
  workforceId: z.string(),
  status: z.string(),
  items: z.number(),
  gold: z.number(),
  score: z.looseObject({ goldN: z.number(), goldCorrect: z.number(), accuracy: z.number().nullable() }).optional(),
});
export type Batch = z.infer<typeof Batch>;
export const LedgerEvent = z.looseObject({
  seq: z.number(),
  type: z.string(),
  at: z.string(),
  subject: z.string(),
  reason: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type LedgerEvent = z.infer<typeof LedgerEvent>;
const Page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next: z.string().optional() });
export { QualityReport };
export type QualityReportT = z.infer<typeof QualityReport>;

export interface Api {
  me(): Promise<z.infer<typeof Me>>;
  scorecards(): Promise<Scorecard[]>;
  batches(): Promise<Batch[]>;
  ledger(): Promise<LedgerEvent[]>;
  quality(by: string): Promise<QualityReportT>;
}

/**
 * A client of the API at `base` (empty: this page's origin) for one program.
 *
 * @example const api = createApi('', token, 'demo-cxr'); const cards = await api.scorecards();
 */
export function createApi(base: string, token: string, programId: string): Api {
  const program = `${base}/v1/programs/${encodeURIComponent(programId)}`;
  async function get<T extends z.ZodType>(url: string, schema: T): Promise<z.infer<T>> {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    const body: unknown = await res.json().catch(() => null);
    if (!res.ok) {
      const detail = z.object({ title: z.string(), detail: z.string().optional() }).safeParse(body);
      throw new ApiError(`${url.replace(base, '')}: ${res.status} ${detail.success ? (detail.data.detail ?? detail.data.title) : res.statusText}`, res.status);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new ApiError(`${url.replace(base, '')}: unexpected answer (${parsed.error.issues[0]?.message ?? 'invalid'})`, res.status);
    return parsed.data;
  }
  async function all<T extends z.ZodType>(url: string, item: T): Promise<z.infer<T>[]> {
    const out: z.infer<T>[] = [];
    let cursor: string | undefined;
    do {
      const page = await get(`${url}?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, Page(item));
      out.push(...page.items);
      cursor = page.next;
    } while (cursor);
    return out;
  }
  return {
    me: () => get(`${base}/v1/me`, Me),
    scorecards: async () => (await get(`${program}/scorecards`, z.object({ items: z.array(Scorecard) }))).items,
    batches: () => all(`${program}/batches`, Batch),
    ledger: () => all(`${program}/ledger`, LedgerEvent),
    quality: (by) => get(`${program}/quality?by=${encodeURIComponent(by)}`, QualityReport),
  };
}
