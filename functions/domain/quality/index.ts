/** Drift alarms and subgroup diagnosis (issue 12 bullets 2–3): pure statistics. */
export * from './drift.js';
export * from './subgroups.js';
export * from './drift-alarms.js';
