/** Errors a caller can act on. Step Functions matches on `name`. */

/** The thing does not exist, or the caller may not know it exists (same answer). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** The request conflicts with the current state (e.g. upload to a closed batch). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** Input that will never succeed as sent; not retried. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
}

/** A stored object no longer matches what was recorded (hash, size). Not retried. */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

/** The caller's role may not do this. */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}
