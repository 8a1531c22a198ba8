/**
 * Routing: which pool a case goes to, by the protocol's ordered rules (first
 * match wins, explicit default last), behind the de-identification gate.
 */
import type { Case, Condition, ProtocolVersion, Route } from './model/index.js';
import { closestName } from './spelling.js';

export interface RoutingDecision {
  caseId: string;
  /** The id of the rule that matched, or `default`. */
  ruleId: string;
  route: Route;
  /** Why, in words a PM can read: the rule's reason and the facts that matched. */
  explanation: string;
  /** Set when the de-identification gate overrode the rule. */
  gate?: string;
  /** The gate held the case back for a PM (the protocol quarantines): see functions/use-cases/quarantine.ts. */
  quarantined?: true;
}

/** Reads a dotted attribute path (`flags.sensitive`, `subgroup.sex`) from a case. */
export function caseAttribute(c: Case, path: string): unknown {
  let value: unknown = c;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Does the condition hold for the case? Also returns the fact, for explanations. */
export function evaluateCondition(c: Case, cond: Condition): { holds: boolean; fact: string } {
  const v = caseAttribute(c, cond.attribute);
  const shown = v === undefined ? '(absent)' : JSON.stringify(v);
  switch (cond.op) {
    case 'equals':
      return { holds: v === cond.value, fact: `${cond.attribute}=${shown} ${v === cond.value ? '=' : '≠'} ${JSON.stringify(cond.value)}` };
    case 'notEquals':
      return { holds: v !== cond.value, fact: `${cond.attribute}=${shown} ${v !== cond.value ? '≠' : '='} ${JSON.stringify(cond.value)}` };
    case 'in': {
      const holds = (cond.values as unknown[]).includes(v);
      return { holds, fact: `${cond.attribute}=${shown} ${holds ? '∈' : '∉'} ${JSON.stringify(cond.values)}` };
    }
    case 'isTrue':
      return { holds: v === true, fact: `${cond.attribute}=${shown}` };
    case 'isFalse':
      return { holds: v !== true, fact: `${cond.attribute}=${shown}` };
  }
}

/** Why a case may not reach a vendor (empty: it may). */
export function deidentificationProblems(c: Case): string[] {
  const out: string[] = [];
  if (!c.deidentified) out.push('no de-identification attestation');
  for (const f of c.deidentificationFindings) out.push(f);
  // A PM's release overrides the problems it lists, for the image it was given on.
  const release = c.quarantineRelease;
  if (release && release.imageKey === c.imageKey) return out.filter((p) => !release.overrides.includes(p));
  return out;
}

/**
 * Routes one case: the first rule whose conditions all hold decides; otherwise the
 * default. A case without a de-identification attestation never reaches a vendor:
 * a vendor route becomes internal, with the reason recorded.
 *
 * @example routeCase(c, protocol).explanation
 *   // 'rule "sensitive-stays-inside" (Sensitive studies stay with our radiologists): flags.sensitive=true'
 */
export function routeCase(c: Case, protocol: ProtocolVersion): RoutingDecision {
  let decision: RoutingDecision | undefined;
  for (const rule of protocol.routing.rules) {
    const results = rule.when.map((cond) => evaluateCondition(c, cond));
    if (results.every((r) => r.holds)) {
      const facts = results.length ? results.map((r) => r.fact).join(', ') : 'no conditions (matches every case)';
      decision = { caseId: c.caseId, ruleId: rule.id, route: rule.route, explanation: `rule "${rule.id}" (${rule.reason}): ${facts}` };
      break;
    }
  }
  decision ??= {
    caseId: c.caseId,
    ruleId: 'default',
    route: protocol.routing.default,
    explanation: 'no rule matched: protocol default',
  };
  const problems = deidentificationProblems(c);
  if (decision.route.pool === 'vendor' && problems.length > 0) {
    const why = problems.join('; ');
    if (protocol.routing.onDeidentificationFailure === 'quarantine') {
      return {
        ...decision,
        route: { pool: 'exclude' },
        gate: `quarantined: ${why}`,
        quarantined: true,
        explanation: `${decision.explanation}; de-identification gate: ${why}, so the case is quarantined`,
      };
    }
    return {
      ...decision,
      route: { pool: 'internal', qualifications: decision.route.qualifications, overflowToVendors: false },
      gate: `kept internal: ${why}`,
      explanation: `${decision.explanation}; de-identification gate: ${why}, so the case stays internal`,
    };
  }
  if (decision.route.pool === 'internal' && decision.route.overflowToVendors && problems.length > 0) {
    // Overflow to vendors must never carry a case the gate would stop.
    return { ...decision, route: { ...decision.route, overflowToVendors: false } };
  }
  return decision;
}

/**
 * A case's attribute values that the protocol does not declare (`attributes`):
 * a subgroup key it does not list, a subgroup value outside the key's declared
 * values, a flag set that is not in a declared flag list. Rules can only name
 * declared values, so such a case silently falls through to later rules or the
 * default: a PM should see it before a round. Empty when nothing is declared.
 *
 * @example undeclaredCaseAttributes(makeCase('c', { subgroup: { ageBand: '0-18' } }), protocol)
 *   // ['subgroup.ageBand="0-18" is not a declared value (declared: "0-17", "18-64", "65+"): did you mean "0-17"?']
 */
export function undeclaredCaseAttributes(c: Case, protocol: ProtocolVersion): string[] {
  const declared = protocol.attributes;
  const out: string[] = [];
  if (declared?.subgroup) {
    const keys = Object.keys(declared.subgroup);
    for (const [key, value] of Object.entries(c.subgroup)) {
      const values = Object.hasOwn(declared.subgroup, key) ? declared.subgroup[key] : undefined;
      if (!values) {
        const near = closestName(key, keys);
        out.push(`subgroup.${key} is not a declared subgroup key (declared: ${keys.join(', ')})${near ? `: did you mean subgroup.${near}?` : ''}`);
      } else if (!values.includes(value)) {
        const near = closestName(value, values);
        out.push(
          `subgroup.${key}=${JSON.stringify(value)} is not a declared value (declared: ${values.map((v) => JSON.stringify(v)).join(', ')})${near ? `: did you mean ${JSON.stringify(near)}?` : ''}`,
        );
      }
    }
  }
  if (declared?.flags) {
    for (const [flag, set] of Object.entries(c.flags)) {
      if (set && !(declared.flags as readonly string[]).includes(flag)) out.push(`flags.${flag}=true but the protocol does not declare flags.${flag} (declared: ${declared.flags.join(', ') || 'none'})`);
    }
  }
  return out;
}
