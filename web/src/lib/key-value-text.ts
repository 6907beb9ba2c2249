/**
 * Env variables and labels typed as text, one `KEY=value` per line (what people
 * paste from a shell or a .env file). Blank lines and `#` comments are ignored;
 * a value may contain `=`. Errors name the line.
 */

export interface KeyValueParse {
  values: Record<string, string>;
  /** `line 3: expected KEY=value, got "FOO"`. */
  errors: string[];
}

export function parseKeyValueText(text: string, what: 'variable' | 'label' = 'variable'): KeyValueParse {
  const values: Record<string, string> = {};
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      errors.push(`line ${i + 1}: expected ${what === 'label' ? 'key=value' : 'NAME=value'}, got ${JSON.stringify(line)}`);
      return;
    }
    const key = line.slice(0, eq).trim();
    if (what === 'variable' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      errors.push(`line ${i + 1}: ${JSON.stringify(key)} is not a valid variable name (letters, digits and _, not starting with a digit)`);
      return;
    }
    if (Object.hasOwn(values, key)) errors.push(`line ${i + 1}: ${key} is set twice`);
    values[key] = line.slice(eq + 1);
  });
  return { values, errors };
}

/** The inverse: one `KEY=value` per line, keys in their stored order. */
export function formatKeyValueText(values: Record<string, string> | null | undefined): string {
  return Object.entries(values ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}
