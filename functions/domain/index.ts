/** Goldline's pure domain: plain data in, plain data out; no AWS imports. */
export * from './agreement.js';
export * from './assignment.js';
export * from './batching.js';
export * from './case-manifest.js';
export * from './csv.js';
export * from './deidentification.js';
export * from './protocol-document.js';
export * from './gold-scoring.js';
export * from './label-file.js';
export * from './ledger-query.js';
export * from './model/index.js';
export * from './planning.js';
export * from './random.js';
export * from './rebalancing.js';
export * from './routing.js';
export * from './scorecards.js';
export * from './scoring/index.js';
