/** A labelled textarea of `KEY=value` lines (env variables, labels) that says which line is wrong. */
import { useId } from 'react';
import { parseKeyValueText } from '../lib/key-value-text';

export function KeyValueField({ label, value, onChange, what, hint, rows = 3 }: { label: string; value: string; onChange: (v: string) => void; what: 'variable' | 'label'; hint?: string; rows?: number }) {
  const id = useId();
  const errors = parseKeyValueText(value, what).errors;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <span className="hint" id={`${id}-hint`}>
          {hint}
        </span>
      )}
      <textarea
        id={id}
        rows={rows}
        value={value}
        spellCheck={false}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={errors.length > 0}
        aria-describedby={[hint ? `${id}-hint` : '', errors.length ? `${id}-errors` : ''].filter(Boolean).join(' ') || undefined}
        placeholder={what === 'label' ? 'team=payments' : 'BASE_URL=http://127.0.0.1:8080'}
      />
      {errors.length > 0 && (
        <span className="field-error" id={`${id}-errors`} role="alert">
          {errors.join('; ')}
        </span>
      )}
    </div>
  );
}
