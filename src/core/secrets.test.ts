import { describe, expect, it } from 'vitest';
import { keepMaskedSecrets, MASKED_ENV, maskSecretEnv, maskUrlPasswords, MIN_SECRET_CHARS, SecretMasker, secretsToMask, urlCredentials, withMaskedEnvNames } from './secrets.js';

/** Has `+`, `/`, `=` padding in base64 and a space, `@`, `&`, `?` when URL-encoded. */
const TOKEN = 'p@ss w0rd/+?&=>>~';
const b64 = (s: string) => Buffer.from(s).toString('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');

describe('urlCredentials', () => {
  it('finds user and password of every scheme://user:pass@host in a value', () => {
    expect(urlCredentials('postgres://app:s3cret@db/x').map((c) => [c.user, c.password])).toEqual([['app', 's3cret']]);
    const two = 'primary=postgres://a:one1@h1:5432/x replica=jdbc:postgresql://b:two2@h2/y?ssl=true';
    expect(urlCredentials(two).map((c) => c.password)).toEqual(['one1', 'two2']);
    // the last @ of the authority ends the user info (WHATWG)
    expect(urlCredentials('redis://u:p@ss@cache:6379').map((c) => c.password)).toEqual(['p@ss']);
    expect(urlCredentials('https://:tok3n@api.example.com').map((c) => [c.user, c.password])).toEqual([['', 'tok3n']]);
  });

  it('finds nothing in URLs without a password, or text that only looks like one', () => {
    for (const text of ['https://token@github.com/x', 'http://host:8080/a@b', 'mailto:a:b@c', 'user:pass@host', 'http://u:@h']) {
      expect(urlCredentials(text), text).toEqual([]);
    }
  });

  it('maskUrlPasswords shows the password as *** in place', () => {
    expect(maskUrlPasswords('postgres://app:s3cret@db/x')).toBe('postgres://app:***@db/x');
    expect(maskUrlPasswords('a=amqp://u:p1@q b=http://v:p2@w/')).toBe('a=amqp://u:***@q b=http://v:***@w/');
    expect(maskUrlPasswords('http://example.com')).toBe('http://example.com');
  });
});

describe('secretsToMask', () => {
  it('holds each secret as written, JSON-escaped, URL-encoded and in base64, longest first', () => {
    const forms = secretsToMask({ API_TOKEN: TOKEN, BASE_URL: 'http://127.0.0.1:8080' });
    const expected = [
      TOKEN,
      encodeURIComponent(TOKEN), // p%40ss%20w0rd%2F%2B%3F%26%3D%3E%3E~
      encodeURIComponent(TOKEN).replace(/%20/g, '+'), // form-encoded
      encodeURIComponent(TOKEN).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
      new URLSearchParams({ t: TOKEN }).toString().slice(2),
      b64(TOKEN), // cEBzcyB3MHJkLys/Jj0+Pn4=
      b64(TOKEN).replace(/=+$/, ''),
      b64url(TOKEN), // unpadded URL-safe
      b64url(TOKEN) + '=',
    ];
    for (const form of expected) expect(forms, form).toContain(form);
    expect(forms.some((f) => f.includes('127.0.0.1'))).toBe(false);
    for (let i = 1; i < forms.length; i++) expect(forms[i - 1]!.length).toBeGreaterThanOrEqual(forms[i]!.length);
  });

  it('takes the password of URL-shaped values of any name, decoded too, and base64 of user:password', () => {
    const forms = secretsToMask({ DATABASE_URL: 'postgres://app:s3cr%40t@db/x', PLAIN: 'hello' });
    expect(forms).toContain('s3cr%40t');
    expect(forms).toContain('s3cr@t');
    expect(forms).toContain(b64('app:s3cr@t'));
    expect(forms).not.toContain('hello');
    expect(forms).not.toContain('app');
  });

  it(`leaves out secrets shorter than ${MIN_SECRET_CHARS} characters, and encoded forms that short`, () => {
    expect(secretsToMask({ PIN_SECRET: 'abc', DB_URL: 'postgres://u:pw@h/d' })).toEqual([]);
    for (const form of secretsToMask({ API_KEY: 'abcd' })) expect(form.length).toBeGreaterThanOrEqual(MIN_SECRET_CHARS);
  });
});

describe('SecretMasker', () => {
  const masker = SecretMasker.forEnv({ API_TOKEN: TOKEN, DATABASE_URL: 'postgres://app:s3cret@db/x' });

  it('masks the secret and its encoded forms wherever they appear', () => {
    expect(masker.mask(`token=${TOKEN}!`)).toBe('token=***!');
    expect(masker.mask(`Bearer ${b64(TOKEN)}`)).toBe('Bearer ***');
    expect(masker.mask(`?t=${b64url(TOKEN)}&x=1`)).toBe('?t=***&x=1');
    expect(masker.mask(`body: t=${encodeURIComponent(TOKEN)}`)).toBe('body: t=***');
    expect(masker.mask(`{"t":${JSON.stringify(TOKEN)}}`)).toBe('{"t":"***"}');
    expect(masker.mask('connecting to postgres://app:s3cret@db/x')).toBe('connecting to postgres://app:***@db/x');
    expect(masker.mask(`Authorization: Basic ${b64('app:s3cret')}`)).toBe('Authorization: Basic ***');
  });

  it('masks a secret inside any longer base64 text, whatever its alignment', () => {
    for (const prefix of ['', 'a', 'ab', 'abc', 'alice:', 'x-access-token:']) {
      const encoded = b64(`${prefix}${TOKEN}-suffix`);
      const shown = masker.mask(`Basic ${encoded}`);
      expect(shown, prefix).toContain('***');
      // what is left shows at most the encoding of the prefix, a mixed character each side and the suffix
      expect(shown.length, prefix).toBeLessThanOrEqual('Basic '.length + encoded.length - Math.floor((TOKEN.length - 2) * 4 / 3) + 3);
    }
  });

  it('masks a secret cut off by a shortened value (…)', () => {
    expect(masker.mask(`expected "${TOKEN.slice(0, 9)}…" to be "x"`)).toBe('expected "***…" to be "x"');
    expect(masker.mask(`got ${b64(TOKEN).slice(0, 12)}…`)).toBe('got ***…');
    // a word that merely starts like the secret, without the cut, stays
    expect(masker.mask('p@ss is not cut')).toBe('p@ss is not cut');
  });

  it('masks every text of an event', () => {
    const event = { type: 'assertion' as const, ts: 0, stepSeq: null, passed: false, message: `m ${TOKEN}`, expected: b64(TOKEN), actual: 'postgres://app:s3cret@db/x', location: null };
    masker.maskEvent(event);
    expect(event).toMatchObject({ message: 'm ***', expected: '***', actual: 'postgres://app:***@db/x' });
  });
});

describe('maskSecretEnv / keepMaskedSecrets', () => {
  const stored = {
    API_TOKEN: TOKEN,
    PIN_PASSWORD: 'ab',
    DATABASE_URL: 'postgres://app:s3cret@db/x',
    AUTH_HEADER: `Basic ${b64(`me:${TOKEN}`)}`,
    BASE_URL: 'http://127.0.0.1:8080',
  };

  it('shows secret names as ***, URL passwords as *** in place, and other values holding a secret masked', () => {
    expect(maskSecretEnv(stored)).toEqual({
      API_TOKEN: '***',
      PIN_PASSWORD: '***',
      DATABASE_URL: 'postgres://app:***@db/x',
      AUTH_HEADER: expect.stringMatching(/^Basic .*\*\*\*/),
      BASE_URL: 'http://127.0.0.1:8080',
    });
    const plain = { A: '1' };
    expect(maskSecretEnv(plain)).toBe(plain);
  });

  it('keeps the stored value of anything sent back as it was shown', () => {
    const shown = maskSecretEnv(stored);
    expect(keepMaskedSecrets({ ...shown, BASE_URL: 'http://other' }, stored)).toEqual({ ...stored, BASE_URL: 'http://other' });
    // a changed URL (even one that keeps the *** password) is taken as sent
    expect(keepMaskedSecrets({ DATABASE_URL: 'postgres://app:***@evil/x' }, stored)).toEqual({ DATABASE_URL: 'postgres://app:***@evil/x' });
    expect(keepMaskedSecrets({ NEW_TOKEN: '***' }, stored)).toEqual({ NEW_TOKEN: '***' });
  });
});

describe('names listed in TOPAS_MASKED_ENV (values read from Kubernetes Secrets)', () => {
  const env = withMaskedEnvNames({ API_HOST: 'internal-api.corp.example', REGION: 'eu-west-1' }, ['API_HOST']);

  it('are secret whatever they look like: masked in what the run reports and shown as *** by the API', () => {
    expect(env[MASKED_ENV]).toBe('API_HOST');
    expect(new SecretMasker(secretsToMask(env)).mask('calling internal-api.corp.example in eu-west-1')).toBe('calling *** in eu-west-1');
    expect(maskSecretEnv(env)).toEqual({ API_HOST: '***', REGION: 'eu-west-1', [MASKED_ENV]: 'API_HOST' });
  });

  it('merge with names listed before, and an env listing none is left as it is', () => {
    expect(withMaskedEnvNames(env, ['B', 'API_HOST'])[MASKED_ENV]).toBe('API_HOST,B');
    const plain = { A: '1' };
    expect(withMaskedEnvNames(plain, [])).toBe(plain);
  });
});
