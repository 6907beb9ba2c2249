/**
 * One definition: edit it in a Lua editor, run it now with env overrides, and see
 * its history (the runs started from it). `/definitions/new` creates one.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router-dom';
import { api } from '../api/endpoints';
import { isNotFound } from '../api/http';
import type { Definition, DefinitionInput } from '../api/types';
import { GuardedButton } from '../components/guarded';
import { KeyValueField } from '../components/key-value-field';
import { LuaEditor } from '../components/lua-editor';
import { RunsTable } from '../components/runs-table';
import { Empty, ErrorState, InlineError, Loading } from '../components/states';
import { useDocumentTitle } from '../hooks/use-document-title';
import { useLiveRuns } from '../hooks/use-live-runs';
import { useCan } from '../hooks/use-session';
import { formatKeyValueText, parseKeyValueText } from '../lib/key-value-text';
import { roleToRunStored } from '../lib/permissions';
import { EMPTY_FILTERS } from '../lib/run-filter';

const TEMPLATE = `-- A test is steps with assertions; a failed assertion fails its step and the run.
-- Reference: docs/lua-api.md
test("example", function()
  step("arithmetic", function()
    assert(1 + 1 == 2, "one plus one is two")
  end)
end)
`;

interface Form {
  name: string;
  description: string;
  appName: string;
  timeoutSeconds: string;
  labels: string;
  env: string;
  script: string;
}

const formOf = (d: Definition | null): Form => ({
  name: d?.name ?? '',
  description: d?.description ?? '',
  appName: d?.appName ?? '',
  timeoutSeconds: String(d?.timeoutSeconds ?? 600),
  labels: formatKeyValueText(d?.labels),
  env: formatKeyValueText(d?.env),
  script: d?.script ?? TEMPLATE,
});

export default function DefinitionPage() {
  const { ref } = useParams();
  const definition = useQuery({ queryKey: ['definition', ref], queryFn: ({ signal }) => api.getDefinition(ref!, signal), enabled: !!ref });
  useDocumentTitle(ref ? (definition.data?.name ?? 'Definition') : 'New definition');
  if (!ref) return <DefinitionEditor definition={null} />;
  if (definition.isPending) return <Loading label="Loading the definition…" />;
  if (definition.isError) {
    if (isNotFound(definition.error))
      return (
        <Empty title="No such definition">
          <p>
            There is no definition <code>{ref}</code>. <Link to="/definitions">See all definitions</Link>.
          </p>
        </Empty>
      );
    return <ErrorState error={definition.error} retry={() => void definition.refetch()} />;
  }
  return <DefinitionEditor key={definition.data.id} definition={definition.data} />;
}

function DefinitionEditor({ definition }: { definition: Definition | null }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const edit = useCan('editor');
  const [saved, setSaved] = useState(() => formOf(definition));
  const [form, setForm] = useState(saved);
  const [formError, setFormError] = useState<string | null>(null);
  // A definition just created arrives here by navigation: say it was saved.
  const location = useLocation();
  const [justSaved, setJustSaved] = useState(() => (location.state as { saved?: boolean } | null)?.saved === true);
  const dirty = JSON.stringify(form) !== JSON.stringify(saved);
  const set = (patch: Partial<Form>) => {
    setForm((f) => ({ ...f, ...patch }));
    setJustSaved(false);
  };

  const save = useMutation({
    mutationFn: (body: DefinitionInput) => (definition ? api.replaceDefinition(definition.id, body) : api.createDefinition(body)),
    onSuccess: (result) => {
      queryClient.setQueryData(['definition', result.id], result);
      void queryClient.invalidateQueries({ queryKey: ['definitions'] });
      setSaved(formOf(result));
      setForm(formOf(result));
      setJustSaved(true);
      if (!definition) navigate(`/definitions/${result.id}`, { replace: true, state: { saved: true } });
    },
  });

  const submit = () => {
    if (!edit.allowed) return;
    const labels = parseKeyValueText(form.labels, 'label');
    const env = parseKeyValueText(form.env, 'variable');
    const timeout = Number(form.timeoutSeconds);
    const problems = [...labels.errors.map((e) => `Labels, ${e}`), ...env.errors.map((e) => `Environment, ${e}`)];
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 86_400) problems.push('Timeout: must be a whole number of seconds from 1 to 86400');
    if (problems.length) {
      setFormError(problems.join('\n'));
      return;
    }
    setFormError(null);
    save.mutate({
      name: form.name.trim(),
      description: form.description,
      script: form.script,
      env: env.values,
      labels: labels.values,
      timeoutSeconds: timeout,
      appName: form.appName.trim() || null,
      // PUT replaces every field: keep the files the definition carries.
      ...(definition ? { files: definition.files } : {}),
    });
  };

  const remove = useMutation({
    mutationFn: () => api.deleteDefinition(definition!.id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['definitions'] });
      navigate('/definitions');
    },
  });

  const files = definition ? Object.keys(definition.files) : [];

  return (
    <>
      <div className="page-header">
        <h1>{definition ? definition.name : 'New definition'}</h1>
        <span className="subtitle" aria-live="polite">
          {save.isPending ? 'Saving…' : dirty ? 'Unsaved changes' : justSaved ? 'Saved' : ''}
        </span>
        <div className="actions">
          {definition && (
            <GuardedButton
              needs="editor"
              type="button"
              className="danger"
              onClick={() => window.confirm(`Delete the definition “${definition.name}”? Its runs stay.`) && remove.mutate()}
              disabled={remove.isPending}
            >
              Delete
            </GuardedButton>
          )}
          <GuardedButton needs="editor" type="submit" form="definition-form" className="primary" disabled={save.isPending || (!!definition && !dirty)}>
            {definition ? 'Save' : 'Create'}
          </GuardedButton>
        </div>
      </div>
      <InlineError error={remove.error} />
      {!edit.allowed && (
        <p className="inline-note" data-testid="read-only-note">
          Read only: changing definitions {edit.reason}.
        </p>
      )}
      <form
        id="definition-form"
        className="card"
        aria-label="Definition"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <fieldset className="plain" disabled={!edit.allowed}>
          <div className="form-row">
            <div className="field">
              <label htmlFor="def-name">Name</label>
              <input id="def-name" required value={form.name} onChange={(e) => set({ name: e.target.value })} pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" title="letters, digits, “.”, “_” and “-”, starting with a letter or digit" />
            </div>
            <div className="field">
              <label htmlFor="def-app">App</label>
              <input id="def-app" value={form.appName} onChange={(e) => set({ appName: e.target.value })} placeholder="none" />
            </div>
            <div className="field">
              <label htmlFor="def-timeout">Timeout (seconds)</label>
              <input id="def-timeout" type="number" min={1} max={86400} value={form.timeoutSeconds} onChange={(e) => set({ timeoutSeconds: e.target.value })} />
            </div>
          </div>
          <div className="field">
            <label htmlFor="def-description">Description</label>
            <input id="def-description" value={form.description} onChange={(e) => set({ description: e.target.value })} />
          </div>
          <div className="form-row">
            <KeyValueField label="Labels" what="label" value={form.labels} onChange={(labels) => set({ labels })} hint="One key=value per line." />
            <KeyValueField label="Environment" what="variable" value={form.env} onChange={(env) => set({ env })} hint="One NAME=value per line; runs start with these." />
          </div>
          <div className="field">
            <span id="def-script-label" style={{ fontWeight: 500 }}>
              Script (Lua)
            </span>
            <span className="hint">Ctrl/⌘-S saves. Tab moves focus out of the editor.</span>
            <LuaEditor value={form.script} onChange={(script) => set({ script })} readOnly={!edit.allowed} label="Script (Lua)" onSave={submit} minHeight={280} />
          </div>
        </fieldset>
        {files.length > 0 && (
          <p className="subtitle">
            Carries {files.length} file{files.length === 1 ? '' : 's'} of its folder: {files.join(', ')}
          </p>
        )}
        {formError && (
          <div className="inline-error" role="alert">
            {formError}
          </div>
        )}
        <InlineError error={save.error} />
      </form>
      {definition && <RunNow definition={definition} dirty={dirty} />}
      {definition && <History definition={definition} />}
    </>
  );
}

function RunNow({ definition, dirty }: { definition: Definition; dirty: boolean }) {
  const navigate = useNavigate();
  const [env, setEnv] = useState('');
  const [error, setError] = useState<string | null>(null);
  // Overrides of a definition with stored env (which may hold secrets) are the editor's call.
  const needs = roleToRunStored(definition, { env: parseKeyValueText(env, 'variable').values });
  const overrides = useCan('editor');
  const storesEnv = Object.keys(definition.env).length > 0;
  const run = useMutation({
    mutationFn: (values: Record<string, string>) => api.runDefinition(definition.id, Object.keys(values).length ? { env: values } : {}),
    onSuccess: (created) => navigate(`/runs/${created.id}`),
  });
  const start = () => {
    const parsed = parseKeyValueText(env, 'variable');
    if (parsed.errors.length) {
      setError(parsed.errors.join('; '));
      return;
    }
    setError(null);
    run.mutate(parsed.values);
  };
  return (
    <section className="card" aria-labelledby="run-now-heading">
      <h2 id="run-now-heading">Run now</h2>
      <KeyValueField
        label="Environment overrides"
        what="variable"
        value={env}
        onChange={setEnv}
        hint={`Merged over the definition's environment for this run only.${overrides.allowed || !storesEnv ? '' : ` Changing its stored environment ${overrides.reason}.`}`}
        rows={2}
      />
      {dirty && <p className="inline-note">The run uses the saved script; save first to run your changes.</p>}
      {error && (
        <div className="inline-error" role="alert">
          {error}
        </div>
      )}
      <InlineError error={run.error} />
      <GuardedButton needs={needs} type="button" className="primary" onClick={start} disabled={run.isPending}>
        {run.isPending ? 'Starting…' : 'Run now'}
      </GuardedButton>
    </section>
  );
}

function History({ definition }: { definition: Definition }) {
  const list = useLiveRuns({ ...EMPTY_FILTERS, definition: definition.id }, { pageSize: 25, intervalMs: 3000 });
  return (
    <section className="card" aria-labelledby="history-heading">
      <h2 id="history-heading">
        History <Link className="subtitle" to={`/runs?definition=${definition.id}`}>open in Runs</Link>
      </h2>
      {list.isLoading ? (
        <Loading label="Loading runs…" />
      ) : list.error && !list.runs.length ? (
        <ErrorState error={list.error} retry={() => void list.refetch()} />
      ) : list.runs.length === 0 ? (
        <p className="subtitle">This definition has not run yet.</p>
      ) : (
        <RunsTable short runs={list.runs} hasMore={list.hasMore} loadMore={list.loadMore} loadingMore={list.loadingMore} moreError={list.moreError} caption={`Runs of ${definition.name}`} />
      )}
    </section>
  );
}
