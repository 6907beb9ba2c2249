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
