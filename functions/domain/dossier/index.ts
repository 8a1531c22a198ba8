/** The regulatory dossier of a release: model, builder, HTML rendering, acceptance risks. */
export * from './acceptance-risks.js';
export * from './agreement.js';
export * from './build.js';
export * from './html.js';
export * from './model.js';
