/** Acceptance sampling: exact binomial plans, a truncated SPRT, three-way batch decisions and switching rules. */
export * from './binomial.js';
export * from './decision.js';
export * from './plan.js';
export * from './report.js';
export * from './sprt.js';
export * from './switching.js';
