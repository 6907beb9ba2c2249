/**
 * Typed errors with a stable `code`. The server turns them into HTTP responses
 * in one place; the CLI prints their message. Messages say what was wrong, where,
 * and how to fix it.
 */
export class TopasError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends TopasError {
  constructor(kind: string, id: string) {
    super('NotFound', `${kind} ${JSON.stringify(id)} not found`, { kind, id });
  }
}

/** The request is valid but conflicts with the current state (e.g. cancel a finished run). */
export class ConflictError extends TopasError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('Conflict', message, details);
  }
}

/** One invalid field of an input: `field` is a dotted path such as `env.API_KEY`. */
export interface FieldIssue {
  field: string;
  message: string;
}

export class ValidationError extends TopasError {
  constructor(readonly issues: FieldIssue[]) {
    super('ValidationError', issues.map((i) => `${i.field}: ${i.message}`).join('; '), { issues });
  }
}

/** The request carries no valid credential (no token, an unknown or revoked one, an expired session). */
export class UnauthorizedError extends TopasError {
  constructor(message: string) {
    super('Unauthorized', message);
  }
}

/** The caller is known but may not do this: its role is too low, or the request is refused by a rule (Host, Origin). */
export class ForbiddenError extends TopasError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('Forbidden', message, details);
  }
}

/** A state-changing request's body is not JSON. */
export class UnsupportedMediaTypeError extends TopasError {
  constructor(message: string) {
    super('UnsupportedMediaType', message);
  }
}
