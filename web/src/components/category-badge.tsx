import { categoryColor } from '../lib/category-colors';

/** A failure's category, in its colour; `rule` (the rule that matched) shows as the title. */
export function CategoryBadge({ category, rule }: { category: string; rule?: string | null }) {
  return (
    <span
      className="category"
      style={{ ['--category-color' as string]: categoryColor(category) }}
      title={rule ? `Category ${category} (rule ${rule})` : `Category ${category}${rule === null ? ' (no rule matched)' : ''}`}
      data-testid="category-badge"
    >
      {category}
    </span>
  );
}
