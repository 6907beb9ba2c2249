import { describe, expect, it } from 'vitest';
import { tokenFromInput, withoutToken } from './login-token';

describe('tokenFromInput', () => {
  it('takes a pasted token as it is, without surrounding space', () => {
    expect(tokenFromInput('  tps_abc123\n')).toBe('tps_abc123');
  });

  it('takes the token out of a pasted login URL', () => {
    expect(tokenFromInput('http://127.0.0.1:4000/?token=tps_abc123')).toBe('tps_abc123');
    expect(tokenFromInput('http://localhost:4000/runs?phase=Failed&token=xyz')).toBe('xyz');
  });

  it('keeps a URL without a token as the text given (the server says it is not a token)', () => {
    expect(tokenFromInput('http://127.0.0.1:4000/runs')).toBe('http://127.0.0.1:4000/runs');
  });
});

describe('withoutToken', () => {
  it('drops the token and keeps every other parameter', () => {
    expect(withoutToken('?token=abc')).toBe('');
    expect(withoutToken('?phase=Failed&token=abc&since=24h')).toBe('?phase=Failed&since=24h');
    expect(withoutToken('')).toBe('');
  });
});
