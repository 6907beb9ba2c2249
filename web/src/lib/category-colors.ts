/**
 * One colour per failure category, the same in badges and charts. The shipped
 * categories have fixed colours (Regression, the one to look at first, is red);
 * any other name gets a colour from a small palette by a hash of the name, so a
 * category keeps its colour across pages and reloads.
 */
import { DEFAULT_CATEGORY } from '../../../src/core/categories';

const FIXED: Record<string, string> = {
  [DEFAULT_CATEGORY]: '#c62828',
  'Missing Component': '#7c3aed',
  'Upgrade Prerequisite': '#0369a1',
  'Platform Issue': '#a16207',
  'Config Gap': '#0f766e',
};

const PALETTE = ['#be185d', '#4d7c0f', '#1d4ed8', '#9a3412', '#6d28d9', '#0e7490', '#b45309', '#475569'];

export function categoryColor(category: string): string {
  const fixed = FIXED[category];
  if (fixed) return fixed;
  let hash = 0;
  for (let i = 0; i < category.length; i++) hash = (hash * 31 + category.charCodeAt(i)) >>> 0;
  return PALETTE[hash % PALETTE.length]!;
}
