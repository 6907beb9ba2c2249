/**
 * The small JSONPath subset printer columns use: `.a.b`, `['a.b']`, `[0]`, `[*]`,
 * `[?(@.type=="Ready")]` (==, !=), with or without the surrounding `{ }`.
 */
type Step = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'all' } | { kind: 'filter'; path: string[]; op: '==' | '!='; value: string };

function parse(expr: string): Step[] {
  let s = expr.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1).trim();
  if (s.startsWith('$')) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === '.') {
      i++;
      let j = i;
      while (j < s.length && s[j] !== '.' && s[j] !== '[') j++;
      if (j > i) steps.push({ kind: 'key', key: s.slice(i, j) });
      i = j;
    } else if (s[i] === '[') {
      const end = s.indexOf(']', s.startsWith('[?(', i) ? s.indexOf(')]', i) : i);
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^['"].*['"]$/.test(inner)) steps.push({ kind: 'key', key: inner.slice(1, -1) });
      else {
        const m = /^\?\(@\.([\w.]+)\s*(==|!=)\s*["']?([^"']*)["']?\)$/.exec(inner);
        if (!m) throw new Error(`unsupported JSONPath ${expr}`);
        steps.push({ kind: 'filter', path: m[1].split('.'), op: m[2] as '==' | '!=', value: m[3] });
      }
    } else {
      let j = i;
      while (j < s.length && s[j] !== '.' && s[j] !== '[') j++;
      steps.push({ kind: 'key', key: s.slice(i, j) });
      i = j;
    }
  }
  return steps;
}

/** All values `expr` selects in `data` (empty when nothing matches). */
export function evaluateJsonPath(expr: string, data: unknown): unknown[] {
  let cur: unknown[] = [data];
  for (const step of parse(expr)) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || v === undefined) continue;
      if (step.kind === 'key' && typeof v === 'object' && !Array.isArray(v) && step.key in v) next.push((v as any)[step.key]);
      if (step.kind === 'index' && Array.isArray(v)) {
        const item = v[step.index < 0 ? v.length + step.index : step.index];
        if (item !== undefined) next.push(item);
      }
      if (step.kind === 'all') next.push(...(Array.isArray(v) ? v : Object.values(v as object)));
      if (step.kind === 'filter' && Array.isArray(v)) {
        for (const item of v) {
          let x: any = item;
          for (const k of step.path) x = x?.[k];
          if ((String(x) === step.value) === (step.op === '==') && x !== undefined) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}
