export * from './batch.js';
export * from './case.js';
export * from './label.js';
export * from './ledger.js';
export * from './protocol.js';
export * from './score.js';
export * from './submission.js';
export * from './workforce.js';
