/**
 * The Tests page's filter bar. Every change goes to the page URL (text fields
 * after a short pause), so a filtered view can be shared and survives a reload.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { RUN_ORIGINS } from '../lib/domain';
import { EMPTY_TEST_FILTERS, TEST_OUTCOMES, countTestFilters, type TestFilters } from '../lib/test-filter';
import type { RunOrigin, TestOutcome } from '../api/types';

export function TestFiltersBar({
  filters,
  onChange,
  categories,
  definitionName,
}: {
  filters: TestFilters;
  onChange: (next: TestFilters, replace?: boolean) => void;
  /** Category names to suggest (the rules' and the default). */
  categories: readonly string[];
  definitionName?: string;
}) {
  const ids = { text: useId(), app: useId(), origin: useId(), category: useId(), categories: useId(), outcome: useId() };
  const [text, setText] = useState(filters.text);
  const [app, setApp] = useState(filters.app);
  const [category, setCategory] = useState(filters.category);
  useEffect(() => setText(filters.text), [filters.text]);
  useEffect(() => setApp(filters.app), [filters.app]);
  useEffect(() => setCategory(filters.category), [filters.category]);
  const latest = useRef(filters);
  latest.current = filters;
  useEffect(() => {
    const timer = setTimeout(() => {
      const cur = latest.current;
      const next = { ...cur, text, app: app.trim(), category: category.trim() };
      if (next.text !== cur.text || next.app !== cur.app || next.category !== cur.category) onChange(next, true);
    }, 300);
    return () => clearTimeout(timer);
    // Only a change of a typed value restarts the pause.
  }, [text, app, category]);

  return (
    <section className="card" aria-label="Filters">
      <div className="filters">
        <div className="group">
          <label className="group-label" htmlFor={ids.text}>
            Test contains
          </label>
          <input id={ids.text} type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="login" />
        </div>
        <div className="group">
          <label className="group-label" htmlFor={ids.app}>
            App
          </label>
          <input id={ids.app} type="text" value={app} onChange={(e) => setApp(e.target.value)} placeholder="any" size={12} />
        </div>
        <div className="group">
          <label className="group-label" htmlFor={ids.origin}>
            Origin
          </label>
          <select id={ids.origin} value={filters.origin} onChange={(e) => onChange({ ...filters, origin: e.target.value as RunOrigin | '' })}>
            <option value="">Any</option>
            {RUN_ORIGINS.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </div>
        <div className="group">
          <label className="group-label" htmlFor={ids.outcome}>
            Last outcome
          </label>
          <select id={ids.outcome} value={filters.outcome} onChange={(e) => onChange({ ...filters, outcome: e.target.value as TestOutcome | '' })}>
            <option value="">Any</option>
            {TEST_OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </div>
        <div className="group">
          <label className="group-label" htmlFor={ids.category}>
            Category
          </label>
          <input id={ids.category} type="text" list={ids.categories} value={category} onChange={(e) => setCategory(e.target.value)} placeholder="any" size={16} />
          <datalist id={ids.categories}>
            {categories.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        </div>
        <div className="group" role="group" aria-label="Only">
          <span className="group-label">Only</span>
          <div className="chips">
            <button type="button" className="chip-toggle" aria-pressed={filters.flaky} onClick={() => onChange({ ...filters, flaky: !filters.flaky })}>
              Flaky
            </button>
            <button type="button" className="chip-toggle" aria-pressed={filters.quarantined} onClick={() => onChange({ ...filters, quarantined: !filters.quarantined })}>
              Quarantined
            </button>
          </div>
        </div>
      </div>
      {countTestFilters(filters) > 0 && (
        <div className="filter-summary">
          {filters.definition && (
            <span className="chip">
              definition <Link to={`/definitions/${encodeURIComponent(filters.definition)}`}>{definitionName ?? filters.definition}</Link>
              <button type="button" aria-label="Remove definition filter" onClick={() => onChange({ ...filters, definition: '' })}>
                ×
              </button>
            </span>
          )}
          <button type="button" className="small" onClick={() => onChange(EMPTY_TEST_FILTERS)}>
            Clear all filters
          </button>
        </div>
      )}
    </section>
  );
}
