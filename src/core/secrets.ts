/**
 * Which env values are secret, and how they are hidden. The runner masks them in
 * everything a run reports (logs, steps, assertions, the run's message); the API shows
 * them as `***`. One rule for both, here.
 *
 * A secret is (1) the value of an env variable whose name looks secret (`DB_PASSWORD`,
 * `GITHUB_TOKEN`, `apiKey`), and (2) the password inside a URL-shaped value of any env
 * variable (`DATABASE_URL=postgres://app:s3cret@db/x` → `s3cret`). Each is masked as
 * written and in the forms a script commonly turns it into: JSON-escaped, URL-encoded
 * (percent-encoding, `+` for space) and base64 (standard and URL-safe, with and without
 * padding, also when it sits inside a longer base64 text such as Basic auth's
 * `base64(user:pass)`). A form shorter than MIN_SECRET_CHARS is not masked.
 *
 * (1) also counts the names listed in the env's own `TOPAS_MASKED_ENV` (comma-separated):
 * topas sets it on a run whose values it read from a Kubernetes Secret (a TestRun's
 * `envFrom`), so `API_HOST` from a Secret is as secret as `API_TOKEN`. It is part of the
 * run's env, so the rule holds wherever the env goes (the store, a restarted topas, a
 * runner Pod, a re-run).
 */
import type { RunEvent } from './run-events.js';

/** Env variables whose name looks like this hold secrets: their values never leave the run unmasked. */
export const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE|CREDENTIAL)/i;

/** What a secret is shown as. */
export const MASK = '***';

/**
 * Secrets (and encoded forms of them) shorter than this are not masked in free text:
 * replacing every `abc` or `1` of every log line would garble the log and hide nothing
 * (a 3-character secret does not resist guessing anyway). The API still shows a short
 * secret-named value, and a short URL password in its URL, as `***`.
 */
export const MIN_SECRET_CHARS = 4;

/** True when an env variable of this name holds a secret (`DB_PASSWORD`, `GITHUB_TOKEN`, `apiKey`). */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** The env variable that lists (comma-separated) further names whose values are secret, whatever they look like. */
export const MASKED_ENV = 'TOPAS_MASKED_ENV';

/** The names `env[MASKED_ENV]` lists. */
export function maskedEnvNames(env: Record<string, string>): Set<string> {
  const listed = env[MASKED_ENV];
  return new Set(typeof listed === 'string' ? listed.split(',').map((n) => n.trim()).filter(Boolean) : []);
}

/** `env` with `names` added to the names whose values are secret (`MASKED_ENV`). */
export function withMaskedEnvNames(env: Record<string, string>, names: Iterable<string>): Record<string, string> {
  const all = maskedEnvNames(env);
  for (const n of names) all.add(n);
  return all.size ? { ...env, [MASKED_ENV]: [...all].sort().join(',') } : env;
}

/** True when the value of env variable `name` is a secret: its name looks secret, or the env lists it in `MASKED_ENV`. */
function isSecretIn(name: string, masked: Set<string>): boolean {
  return isSecretName(name) || masked.has(name);
}

/** A `user:password@` inside a URL-shaped text, with where its password sits. */
export interface UrlCredential {
  user: string;
  password: string;
  /** Index of the password's first character in the text, and one past its last. */
  start: number;
  end: number;
}

const SCHEME = /[a-z][a-z0-9+.-]*:\/\//gi;
/** Where a URL's authority ends (WHATWG: `/`, `?`, `#`), plus what ends a URL in free text. */
const AUTHORITY_END = /[/?#\s"'<>`]/;

/**
 * The `user:password` parts of every `scheme://user:password@host` in a text (a value may
 * hold several URLs, or a URL among other words). As in WHATWG URLs, the last `@` of the
 * authority ends the user info, so an unencoded `@` in the password stays in it. A URL
 * without a password (`https://token@host`) yields nothing.
 */
export function urlCredentials(text: string): UrlCredential[] {
  const found: UrlCredential[] = [];
  for (const m of text.matchAll(SCHEME)) {
    const from = m.index + m[0].length;
    const rest = text.slice(from);
    const stop = rest.search(AUTHORITY_END);
    const authority = stop < 0 ? rest : rest.slice(0, stop);
    const at = authority.lastIndexOf('@');
    if (at < 0) continue;
    const colon = authority.indexOf(':');
    if (colon < 0 || colon > at) continue;
    const password = authority.slice(colon + 1, at);
    if (!password) continue;
    found.push({ user: authority.slice(0, colon), password, start: from + colon + 1, end: from + at });
  }
  return found;
}

/** The text with the password of every URL in it shown as `***` (`postgres://app:***@db/x`). */
export function maskUrlPasswords(text: string): string {
  if (!text.includes('://')) return text;
  const credentials = urlCredentials(text);
  let out = text;
  for (let i = credentials.length - 1; i >= 0; i--) {
    const c = credentials[i]!;
    out = out.slice(0, c.start) + MASK + out.slice(c.end);
  }
  return out;
}

function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

const urlSafe = (b64: string): string => b64.replace(/\+/g, '-').replace(/\//g, '_');
const unpadded = (b64: string): string => b64.replace(/=+$/, '');

/** `text` as base64: standard and URL-safe, each padded and not. */
function base64Forms(text: string): string[] {
  const b64 = base64(utf8(text));
  return [b64, unpadded(b64), urlSafe(b64), unpadded(urlSafe(b64))];
}

/**
 * The part of the base64 of any text containing `secret` that depends on the secret
 * alone, for each of the three alignments the secret can have in it (after 0, 1 or 2
 * bytes modulo 3): the secret's bytes from `shift` on, encoded, without the last
 * character when it also depends on the bytes that follow. (The approach of GitHub
 * Actions' runner: a secret is hidden inside `base64("user:" + secret)` too.)
 */
function embeddedBase64Forms(secret: string): string[] {
  const bytes = utf8(secret);
  const forms: string[] = [];
  for (let shift = 0; shift < 3 && shift < bytes.length; shift++) {
    const part = bytes.subarray(shift);
    let b64 = unpadded(base64(part));
    if (part.length % 3 !== 0) b64 = b64.slice(0, -1);
    forms.push(b64, urlSafe(b64));
  }
  return forms;
}

/** Percent-encoding of every byte but RFC 3986's unreserved characters. */
function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
const lowerHex = (encoded: string): string => encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

/** A secret as written and in the forms a script turns it into (JSON text, URL-encoded, base64). */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  // inside quoted strings (T.quote, JSON)
  forms.add(JSON.stringify(secret).slice(1, -1));
  // URL-encoded: encodeURIComponent, RFC 3986, either hex case, form-encoded (`+` for space)
  for (const encoded of [encodeURIComponent(secret), encodeURI(secret), rfc3986(secret)]) {
    forms.add(encoded).add(lowerHex(encoded)).add(encoded.replace(/%20/g, '+'));
  }
  forms.add(new URLSearchParams([['', secret]]).toString().slice(1));
  // base64, whole and inside longer base64 text
  for (const b64 of base64Forms(secret)) forms.add(b64);
  for (const b64 of embeddedBase64Forms(secret)) forms.add(b64);
  return [...forms];
}

/**
 * Every string that must not leave a run with this env, longest first (so a string
 * containing another is masked whole): each secret (secret-named values, URL passwords
 * as written and decoded) in all its `secretForms`, and the base64 of each URL's
 * `user:password` (what Basic auth sends). Strings shorter than MIN_SECRET_CHARS are left out.
 */
export function secretsToMask(env: Record<string, string>): string[] {
  const secrets = new Set<string>();
  const basic = new Set<string>();
  const masked = maskedEnvNames(env);
  for (const [name, value] of Object.entries(env)) {
    if (typeof value !== 'string') continue;
    if (isSecretIn(name, masked)) secrets.add(value);
    for (const { user, password } of urlCredentials(value)) {
      const decoded = percentDecoded(password);
      secrets.add(password).add(decoded);
      if (decoded.length >= MIN_SECRET_CHARS) basic.add(`${percentDecoded(user)}:${decoded}`).add(`${user}:${password}`);
    }
  }
  const out = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_CHARS) continue;
    for (const form of secretForms(secret)) if (form.length >= MIN_SECRET_CHARS) out.add(form);
  }
  for (const pair of basic) for (const form of base64Forms(pair)) out.add(form);
  return [...out].sort((a, b) => b.length - a.length);
}

/** What a cut-off text ends with (`s:sub(1, 200) .. "…"`), after a possibly split UTF-8 character. */
const CUT = /\uFFFD{0,3}…/g;

/**
 * Hides secrets in text. Built once per run from `secretsToMask(env)`; every event the
 * run reports goes through `maskEvent`.
 */
export class SecretMasker {
  private readonly secrets: readonly string[];

  constructor(secrets: readonly string[]) {
    this.secrets = [...secrets].sort((a, b) => b.length - a.length);
  }

  static forEnv(env: Record<string, string>): SecretMasker {
    return new SecretMasker(secretsToMask(env));
  }

  /** False when there is nothing to mask (every call is then a no-op). */
  get active(): boolean {
    return this.secrets.length > 0;
  }

  /**
   * The text with every secret form replaced by `***`, longest first. A secret cut off
   * by a shortened value (`"eyJhbGciOi…`, from a text cut to its first 200 characters)
   * is masked too: a prefix of at least MIN_SECRET_CHARS right before the `…`.
   */
  mask(text: string): string {
    for (const secret of this.secrets) if (text.includes(secret)) text = text.split(secret).join(MASK);
    if (text.includes('…')) text = this.maskCutOff(text);
    return text;
  }

  /** Masks the event's texts in place (log message, step name and message, assertion texts). */
  maskEvent(event: RunEvent): void {
    if (!this.active) return;
    switch (event.type) {
      case 'log':
        event.message = this.mask(event.message);
        break;
      case 'step.start':
        event.name = this.mask(event.name);
        break;
      case 'step.end':
        if (event.message !== null) event.message = this.mask(event.message);
        break;
      case 'assertion':
        event.message = this.mask(event.message);
        if (event.expected !== undefined) event.expected = this.mask(event.expected);
        if (event.actual !== undefined) event.actual = this.mask(event.actual);
        break;
    }
  }

  private maskCutOff(text: string): string {
    const cuts = [...text.matchAll(CUT)].map((m) => m.index);
    for (let c = cuts.length - 1; c >= 0; c--) {
      const at = cuts[c]!;
      let longest = 0;
      for (const secret of this.secrets) {
        for (let k = Math.min(secret.length - 1, at); k >= MIN_SECRET_CHARS && k > longest; k--) {
          if (text.startsWith(secret.slice(0, k), at - k)) {
            longest = k;
            break;
          }
        }
      }
      if (longest) text = text.slice(0, at - longest) + MASK + text.slice(at);
    }
    return text;
  }
}

/**
 * The env as shown outside the run: every secret-named value is `***` (whatever its
 * length), the password of every URL in a value is `***` (`postgres://app:***@db/x`),
 * and any other value holding a secret (or an encoded form of one) has it masked.
 */
export function maskSecretEnv(env: Record<string, string>): Record<string, string> {
  const names = Object.keys(env);
  const listed = maskedEnvNames(env);
  if (!names.some((name) => isSecretIn(name, listed) || env[name]!.includes('://'))) return env;
  const masker = SecretMasker.forEnv(env);
  let masked: Record<string, string> | null = null;
  for (const name of names) {
    const value = env[name]!;
    const shown = isSecretIn(name, listed) ? MASK : masker.mask(maskUrlPasswords(value));
    if (shown === value) continue;
    masked ??= { ...env };
    masked[name] = shown;
  }
  return masked ?? env;
}

/**
 * An env sent back after it was shown masked: a value that still reads as the stored
 * value was shown (`***`, `postgres://app:***@db/x`) keeps its stored value (so reading,
 * editing and saving a definition, or re-running with the env as shown, loses nothing).
 */
export function keepMaskedSecrets(next: Record<string, string>, stored: Record<string, string>): Record<string, string> {
  const shown = maskSecretEnv(stored);
  if (shown === stored) return next;
  let kept: Record<string, string> | null = null;
  for (const [name, value] of Object.entries(next)) {
    const before = stored[name];
    if (before === undefined || shown[name] === before || value !== shown[name]) continue;
    kept ??= { ...next };
    kept[name] = before;
  }
  return kept ?? next;
}
