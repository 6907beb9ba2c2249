/**
 * The Runs page's filter bar. It edits the filters held in the URL: every change
 * is written to the page URL (text fields after a short pause), so a filtered
 * view can be shared and survives a reload.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import type { RunFilters } from '../lib/run-filter';
import { EMPTY_FILTERS, RELATIVE_RANGES, countFilters, isRelativeRange, toggle } from '../lib/run-filter';
import { RUN_ORIGINS, RUN_PHASES } from '../lib/domain';

const RANGE_LABELS: Record<string, string> = { '': 'Any time', '1h': 'Last hour', '24h': 'Last 24 hours', '7d': 'Last 7 days', '30d': 'Last 30 days', custom: 'Custom range…' };

/** ISO ↔ the value of a datetime-local input (local time, minutes). */
function isoToLocalInput(iso: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
const localInputToIso = (value: string): string => (value ? new Date(value).toISOString() : '');

/** A text input that reports its value after the user paused typing. */
function useDebounced(value: string, onSettle: (v: string) => void, delayMs = 300) {
  useEffect(() => {
    const timer = setTimeout(() => onSettle(value), delayMs);
    return () => clearTimeout(timer);
    // Only a change of the value restarts the pause; `onSettle` reads the latest filters through a ref.
  }, [value]);
}

export function RunFiltersBar({
  filters,
  onChange,
  definitionName,
  categories = [],
}: {
  filters: RunFilters;
  onChange: (next: RunFilters, replace?: boolean) => void;
  definitionName?: string;
  /** The failure categories to offer (the rules' ones); those in the URL are offered too. */
  categories?: readonly string[];
}) {
  const categoryChoices = [...categories, ...filters.category.filter((c) => !categories.includes(c))];
  const ids = { q: useId(), app: useId(), label: useId(), range: useId(), since: useId(), until: useId() };
  const [q, setQ] = useState(filters.q);
  const [app, setApp] = useState(filters.app);
  const [label, setLabel] = useState('');
  const [labelError, setLabelError] = useState('');
  const custom = filters.since !== '' && !isRelativeRange(filters.since) ? true : filters.until !== '';
  const [showCustom, setShowCustom] = useState(custom);

  // The URL changed from outside (back button, a link): show it.
  useEffect(() => setQ(filters.q), [filters.q]);
  useEffect(() => setApp(filters.app), [filters.app]);
  // The debounced writes read the filters as they are when the pause ends, not when typing began.
  const latest = useRef(filters);
  latest.current = filters;
  useDebounced(q, (v) => v !== latest.current.q && onChange({ ...latest.current, q: v }, true));
  useDebounced(app, (v) => v.trim() !== latest.current.app && onChange({ ...latest.current, app: v.trim() }, true));

  const addLabel = () => {
    const value = label.trim();
    if (!value) return;
    if (value.indexOf('=') <= 0) {
      setLabelError('Write a label as key=value, e.g. team=payments');
      return;
    }
    setLabelError('');
    setLabel('');
    if (!filters.labels.includes(value)) onChange({ ...filters, labels: [...filters.labels, value] });
  };

  const rangeValue = showCustom ? 'custom' : filters.since;

  return (
    <section className="card" aria-label="Filters">
      <div className="filters">
        <div className="group" role="group" aria-labelledby="phase-filter-label">
          <span className="group-label" id="phase-filter-label">
            Phase
          </span>
          <div className="chips">
            {RUN_PHASES.map((phase) => (
              <button
                key={phase}
                type="button"
                className={`chip-toggle phase-${phase}`}
                aria-pressed={filters.phase.includes(phase)}
                onClick={() => onChange({ ...filters, phase: toggle(filters.phase, phase, RUN_PHASES) })}
              >
                {phase}
              </button>
            ))}
          </div>
        </div>
        <div className="group" role="group" aria-labelledby="origin-filter-label">
          <span className="group-label" id="origin-filter-label">
            Origin
          </span>
          <div className="chips">
            {RUN_ORIGINS.map((origin) => (
              <button
                key={origin}
                type="button"
                className="chip-toggle"
                aria-pressed={filters.origin.includes(origin)}
                onClick={() => onChange({ ...filters, origin: toggle(filters.origin, origin, RUN_ORIGINS) })}
              >
                {origin}
              </button>
            ))}
          </div>
        </div>
        {categoryChoices.length > 0 && (
          <div className="group" role="group" aria-labelledby="category-filter-label">
            <span className="group-label" id="category-filter-label">
              Category
            </span>
            <div className="chips">
              {categoryChoices.map((category) => (
                <button
                  key={category}
                  type="button"
                  className="chip-toggle"
                  aria-pressed={filters.category.includes(category)}
                  onClick={() => onChange({ ...filters, category: filters.category.includes(category) ? filters.category.filter((c) => c !== category) : [...filters.category, category] })}
                >
                  {category}
                </button>
              ))}
            </div>
          </div>
        )}
      </div>
      <div className="filters" style={{ marginTop: 12 }}>
        <div className="group">
          <label className="group-label" htmlFor={ids.q}>
            Name contains
          </label>
          <input id={ids.q} type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="checkout" />
        </div>
        <div className="group">
          <label className="group-label" htmlFor={ids.app}>
            App
          </label>
          <input id={ids.app} type="text" value={app} onChange={(e) => setApp(e.target.value)} placeholder="any" size={14} />
        </div>
        <div className="group">
          <label className="group-label" htmlFor={ids.label}>
            Label
          </label>
          <div style={{ display: 'flex', gap: 4 }}>
            <input
              id={ids.label}
              type="text"
              value={label}
              placeholder="key=value"
              size={16}
              aria-invalid={!!labelError}
              aria-describedby={labelError ? `${ids.label}-error` : undefined}
              onChange={(e) => setLabel(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  addLabel();
                }
              }}
            />
            <button type="button" onClick={addLabel}>
              Add
            </button>
          </div>
        </div>
        <div className="group">
          <label className="group-label" htmlFor={ids.range}>
            Created
          </label>
          <select
            id={ids.range}
            value={rangeValue}
            onChange={(e) => {
              const v = e.target.value;
              if (v === 'custom') {
                setShowCustom(true);
                return;
              }
              setShowCustom(false);
              onChange({ ...filters, since: v, until: '' });
            }}
          >
            {['', ...Object.keys(RELATIVE_RANGES), 'custom'].map((v) => (
              <option key={v} value={v}>
                {RANGE_LABELS[v]}
              </option>
            ))}
          </select>
        </div>
        {showCustom && (
          <>
            <div className="group">
              <label className="group-label" htmlFor={ids.since}>
                From
              </label>
              <input
                id={ids.since}
                type="datetime-local"
                value={isRelativeRange(filters.since) ? '' : isoToLocalInput(filters.since)}
                onChange={(e) => onChange({ ...filters, since: localInputToIso(e.target.value) }, true)}
              />
            </div>
            <div className="group">
              <label className="group-label" htmlFor={ids.until}>
                To
              </label>
              <input id={ids.until} type="datetime-local" value={isoToLocalInput(filters.until)} onChange={(e) => onChange({ ...filters, until: localInputToIso(e.target.value) }, true)} />
            </div>
          </>
        )}
      </div>
      {labelError && (
        <div className="field-error" id={`${ids.label}-error`} role="alert" style={{ color: 'var(--danger)', marginTop: 6 }}>
          {labelError}
        </div>
      )}
      {(filters.labels.length > 0 || filters.definition || countFilters(filters) > 0) && (
        <div className="filter-summary">
          {filters.labels.map((l) => (
            <span key={l} className="chip">
              label {l}
              <button type="button" aria-label={`Remove label filter ${l}`} onClick={() => onChange({ ...filters, labels: filters.labels.filter((x) => x !== l) })}>
                ×
              </button>
            </span>
          ))}
          {filters.definition && (
            <span className="chip">
              definition <Link to={`/definitions/${encodeURIComponent(filters.definition)}`}>{definitionName ?? filters.definition}</Link>
              <button type="button" aria-label="Remove definition filter" onClick={() => onChange({ ...filters, definition: '' })}>
                ×
              </button>
            </span>
          )}
          {countFilters(filters) > 0 && (
            <button
              type="button"
              className="small"
              onClick={() => {
                setShowCustom(false);
                onChange(EMPTY_FILTERS);
              }}
            >
              Clear all filters
            </button>
          )}
        </div>
      )}
    </section>
  );
}
