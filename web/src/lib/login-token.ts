/**
 * What the login form was given: a token, or a whole login URL
 * (`http://127.0.0.1:4000/?token=…`, as `topas up` and `topas token url` print it).
 */

/** The token in `text`: the `token` parameter of a pasted URL, else the text itself, trimmed. */
export function tokenFromInput(text: string): string {
  const trimmed = text.trim();
  if (/^https?:\/\//i.test(trimmed)) {
    try {
      const token = new URL(trimmed).searchParams.get('token');
      if (token) return token;
    } catch {
      // Not a URL after all: take the text as it is.
    }
  }
  return trimmed;
}

/** The same address without its `token` parameter (a login code must not stay in the address bar or history). */
export function withoutToken(search: string): string {
  const params = new URLSearchParams(search);
  params.delete('token');
  const rest = params.toString();
  return rest ? `?${rest}` : '';
}
