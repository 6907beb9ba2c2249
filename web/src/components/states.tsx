/** What every page shows while it loads, when it has nothing, and when something went wrong. */
import type { ReactNode } from 'react';
import { ApiError, UnreachableError } from '../api/http';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

/** A failed request, said plainly: which request, what the server answered (or that it did not). */
export function ErrorState({ error, title, retry }: { error: unknown; title?: string; retry?: () => void }) {
  const unreachable = error instanceof UnreachableError;
  return (
    <div className="state error" role="alert">
      <h2>{title ?? (unreachable ? 'Cannot reach the topas API' : 'Something went wrong')}</h2>
      <p>{describeError(error)}</p>
      {unreachable && <p>Is topas still running? Start it with <code>npm start</code> or <code>npx topas up</code>.</p>}
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** One line for an error: the server's message (it names the field), or what went wrong on the way. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (HTTP ${error.status}${error.code ? `, ${error.code}` : ''})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** An error next to a form or button. */
export function InlineError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <div className="inline-error" role="alert">
      {describeError(error)}
    </div>
  );
}
