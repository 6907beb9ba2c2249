/** Environment variables: NAME → string value, names as a shell accepts them. */
import { z } from 'zod';
import { got, key, string } from './text.js';

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `valueHint` follows the type error of a value (` (quote numbers in YAML)`). */
export function envSchema(valueHint = '') {
  return z.record(
    key().regex(ENV_NAME, { error: 'is not a valid variable name (letters, digits and _, not starting with a digit)' }),
    string(`must be a string${valueHint}`),
    { error: (iss) => `must be an object of NAME: "value" pairs, got ${got(iss.input)}` },
  );
}

/** The env a script runs with (`env.NAME` in Lua). */
export const EnvSchema = envSchema().meta({
  description: 'Environment variables the script reads with `env.NAME`; values are strings.',
  example: { BASE_URL: 'http://localhost:8080' },
});
