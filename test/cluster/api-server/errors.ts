/**
 * Errors of the test API server, each carrying the `Status` body kube-apiserver
 * sends for it (reason, code, details), so clients see the same failures.
 */
export type JsonObject = Record<string, any>;

/** One field problem of a 422 Invalid, as in `details.causes`. */
export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

/** What a Status's `details` names: the object the request was about. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** An API failure: `code` is the Status `reason` (NotFound, Conflict, Invalid…). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The `Status` object sent as the response body. */
  toStatus(): JsonObject {
    const body: JsonObject = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.code,
      code: this.status,
    };
    if (this.details) body.details = this.details;
    return body;
  }
}

/** `pods "x"` or `testruns.topas.dev "x"`: how kube-apiserver names an object in messages. */
export function qualifiedName(plural: string, group: string, name: string): string {
  return `${group ? `${plural}.${group}` : plural} "${name}"`;
}

export function notFound(plural: string, group: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedName(plural, group, name)} not found`, { name, group: group || undefined, kind: plural });
}

export function alreadyExists(plural: string, group: string, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedName(plural, group, name)} already exists`, { name, group: group || undefined, kind: plural });
}

export function conflict(plural: string, group: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedName(plural, group, name)}: ${why}`, {
    name,
    group: group || undefined,
    kind: plural,
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function methodNotAllowed(message = 'the server does not allow this method on the requested resource'): ApiError {
  return new ApiError(405, 'MethodNotAllowed', message);
}

/** A field error of a 422, worded like apimachinery's `field.Error`. */
export interface FieldError {
  /** `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`, `FieldValueForbidden`, `FieldValueTooLong`, `FieldValueTypeInvalid`, `FieldValueDuplicate`. */
  type: string;
  field: string;
  /** The full `Invalid value: …: detail` text that follows the field. */
  detail: string;
}

/** Go's `%#v`-ish rendering of a value in an `Invalid value: …` message. */
export function goValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function invalidValue(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, detail: `Invalid value: ${goValue(value)}: ${detail}` };
}
export function required(field: string, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field, detail: detail ? `Required value: ${detail}` : 'Required value' };
}
export function notSupported(field: string, value: unknown, supported: unknown[]): FieldError {
  return {
    type: 'FieldValueNotSupported',
    field,
    detail: `Unsupported value: ${goValue(value)}: supported values: ${supported.map(goValue).join(', ')}`,
  };
}
export function forbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, detail: `Forbidden: ${detail}` };
}
export function tooLong(field: string, max: number): FieldError {
  return { type: 'FieldValueTooLong', field, detail: `Too long: may not be more than ${max} bytes` };
}

/** 422 Invalid: `Kind.group "name" is invalid: field: detail` with one cause per field error. */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): ApiError {
  const list = errors.map((e) => `${e.field}: ${e.detail}`);
  const joined = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ${joined}`, {
    name,
    group: group || undefined,
    kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.detail, field: e.field })),
  });
}

