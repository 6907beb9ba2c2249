import { readFileSync } from 'node:fs';

/** One ```lua example of a reference page; `failing` when fenced ```lua failing. */
export interface DocExample {
  index: number;
  failing: boolean;
  script: string;
  /** Line of the page where the example's code starts. */
  line: number;
}

/** Every Lua example of `docs/<page>`, in order: what the doc tests execute. */
export function docExamples(page: string): DocExample[] {
  const doc = readFileSync(new URL(`../../../docs/${page}`, import.meta.url), 'utf8');
  return [...doc.matchAll(/```lua( failing)?\n([\s\S]*?)```/g)].map((m, i) => ({
    index: i + 1,
    failing: Boolean(m[1]),
    script: m[2]!,
    line: doc.slice(0, m.index).split('\n').length + 1,
  }));
}
