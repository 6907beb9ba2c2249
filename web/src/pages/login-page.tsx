/**
 * Log in: shown in place of any page while the dashboard has no session. A token
 * (or a login URL) pasted here becomes an HttpOnly session cookie; the page the
 * user asked for then loads, at the same URL.
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api/endpoints';
import { isUnauthorized } from '../api/http';
import { SESSION_KEY } from '../api/query-client';
import { InlineError } from '../components/states';
import { useDocumentTitle } from '../hooks/use-document-title';
import { tokenFromInput } from '../lib/login-token';

/** Why the login page is shown, when there is more to say than "log in". */
export type LoginNotice = 'link-used' | 'session-ended';

const NOTICES: Record<LoginNotice, string> = {
  'link-used': 'That login link was used or expired. Paste a token below, or get a new link with npx topas token url.',
  'session-ended': 'Your session ended (it expired, or its token was revoked). Log in again to go on where you were.',
};

export function LoginPage({ notice }: { notice: LoginNotice | null }) {
  useDocumentTitle('Log in');
  const queryClient = useQueryClient();
  const [text, setText] = useState('');
  const login = useMutation({
    mutationKey: SESSION_KEY,
    mutationFn: (token: string) => api.login(token),
    onSuccess: (identity) => {
      // What was loaded before belongs to no one (or to the session that ended): load it again.
      queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== SESSION_KEY[0] });
      queryClient.setQueryData(SESSION_KEY, identity);
    },
  });
  const token = tokenFromInput(text);

  return (
    <>
      <header className="app-header">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true" />
          topas
        </span>
      </header>
      <main id="main" tabIndex={-1} className="login">
        <h1>Log in to topas</h1>
        {notice && (
          <div className="inline-note" role="status" data-testid="login-notice">
            {NOTICES[notice]}
          </div>
        )}
        <form
          className="card"
          aria-label="Log in"
          onSubmit={(e) => {
            e.preventDefault();
            if (token) login.mutate(token);
          }}
        >
          <div className="field">
            <label htmlFor="login-token">Token</label>
            <input
              id="login-token"
              type="password"
              autoComplete="off"
              spellCheck={false}
              autoFocus
              value={text}
              onChange={(e) => setText(e.target.value)}
              aria-describedby="login-token-hint"
              placeholder="paste a token or a login URL"
            />
            <span className="hint" id="login-token-hint">
              A token, or the whole login URL. It is kept only as a session cookie this browser sends back to this server.
            </span>
          </div>
          {login.isError &&
            (isUnauthorized(login.error) ? (
              <div className="inline-error" role="alert">
                That token was not accepted: it is mistyped, revoked or expired.
              </div>
            ) : (
              <InlineError error={login.error} />
            ))}
          <button type="submit" className="primary" disabled={!token || login.isPending}>
            {login.isPending ? 'Logging in…' : 'Log in'}
          </button>
        </form>
        <section className="card" aria-labelledby="login-how">
          <h2 id="login-how">How to get a token</h2>
          <ul>
            <li>
              Open the login URL that <code>npx topas up</code> printed when it started (<code>http://127.0.0.1:4000/?token=…</code>): it logs you in by itself, once.
            </li>
            <li>
              <code>npx topas token url</code> prints a new login URL for this server, on the machine it runs on.
            </li>
            <li>
              <code>npx topas token create --role viewer --name me</code> creates a token to paste here. Its role says what you can do: <strong>viewer</strong> reads,{' '}
              <strong>runner</strong> also starts, reruns and cancels runs, <strong>editor</strong> also changes definitions and Apps and runs with changes,{' '}
              <strong>admin</strong> also manages tokens.
            </li>
          </ul>
        </section>
      </main>
    </>
  );
}
