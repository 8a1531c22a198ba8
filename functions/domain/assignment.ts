/**
 * Explicit assignments: a PM sends a pending case to a named workforce,
 * overriding the shares. Everything else still holds — routing, the
 * de-identification gate, qualifications, exclusions, suspension and pause —
 * so an assignment can never send a case somewhere the protocol would not.
 */
import type { Case, Workforce } from './model/index.js';
import { type RoutingDecision, deidentificationProblems } from './routing.js';

/**
 * Why this case may not go to this workforce, or undefined when it may.
 *
 * @example assignmentProblem(c, routeCase(c, protocol), vendorB, 'vendor-b')
 *   // 'routing keeps it internal: rule "sensitive-stays-inside" (…): flags.sensitive=true'
 */
export function assignmentProblem(c: Case, decision: RoutingDecision, w: Workforce | undefined, workforceId: string): string | undefined {
  if (!w) return `workforce ${workforceId} is not registered in this program`;
  if (w.status === 'suspended') return `${w.workforceId} is suspended (its quality fell below the protocol's floor)`;
  if (w.paused) return `${w.workforceId} is paused`;
  if (decision.quarantined) return `the de-identification gate holds it back for a PM (${decision.gate ?? 'quarantined'})`;
  const route = decision.route;
  if (route.pool === 'exclude') return `routing excludes it: ${decision.explanation}`;
  if (w.kind === 'vendor') {
    const problems = deidentificationProblems(c);
    if (problems.length > 0) return `the de-identification gate keeps it from vendors: ${problems.join('; ')}`;
    if (route.pool === 'internal' && !route.overflowToVendors) return `routing keeps it internal: ${decision.explanation}`;
  }
  const missing = route.qualifications.filter((q) => !w.qualifications.includes(q));
  if (missing.length > 0) return `${w.workforceId} lacks the qualification(s) ${missing.join(', ')} its route requires`;
  if (c.excludedWorkforces.includes(w.workforceId)) {
    return `${w.workforceId} may not get this case again (it missed the SLA on it, or its batch was rejected)`;
  }
  return undefined;
}
