/**
 * The JS half of `json.decode`: JSON.parse, plus the places where the Lua side must
 * put `json.null` or mark an empty table as array/object (Lua cannot hold a nil in a
 * table, and an empty table has no kind).
 */
export interface JsonSpecial {
  path: (string | number)[];
  kind: 'null' | 'array' | 'object';
}

export type JsonDecodeResult = { ok: true; value: unknown; specials: JsonSpecial[] } | { ok: false; error: string };

export function decodeJson(text: string): JsonDecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `invalid JSON: ${(err as Error).message}` };
  }
  const specials: JsonSpecial[] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (v === null) specials.push({ path, kind: 'null' });
    else if (Array.isArray(v)) {
      if (v.length === 0) specials.push({ path, kind: 'array' });
      else for (let i = 0; i < v.length; i++) walk(v[i], [...path, i + 1]);
    } else if (typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length === 0) specials.push({ path, kind: 'object' });
      else for (const k of keys) walk((v as Record<string, unknown>)[k], [...path, k]);
    }
  };
  walk(value, []);
  return { ok: true, value, specials };
}
