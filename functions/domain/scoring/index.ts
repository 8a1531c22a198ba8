/**
 * Goldline's scoring and agreement engine: pure functions over plain data.
 * Definitions and edge-case conventions: ../shared/docs/METRICS.md.
 */
export * from './metric-result.js';
export * from './uncertainty.js';
export * from './classification.js';
export * from './consensus.js';
export * from './segmentation.js';
export * from './surface.js';
export * from './mask-io.js';
export * from './staple.js';
export * from './detection.js';
