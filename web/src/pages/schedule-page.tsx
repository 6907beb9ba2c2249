/** Schedule: start a run from the dashboard (origin `ui`) — a stored definition, a pasted script or a test in a git repository, with app, env, timeout and labels. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { api } from '../api/endpoints';
import type { CreateRunRequest } from '../api/types';
import { GuardedButton } from '../components/guarded';
import { KeyValueField } from '../components/key-value-field';
import { LuaEditor } from '../components/lua-editor';
import { InlineError } from '../components/states';
import { useDocumentTitle } from '../hooks/use-document-title';
import { useCan } from '../hooks/use-session';
import { parseKeyValueText } from '../lib/key-value-text';
import { roleToRunStored } from '../lib/permissions';

const SAMPLE = `-- Paste a test, or start from this one.
test("smoke", function()
  step("says hello", function()
    log.info("hello from the dashboard")
    assert(1 + 1 == 2, "arithmetic works")
  end)
end)
`;

export default function SchedulePage() {
  useDocumentTitle('Schedule a run');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [params] = useSearchParams();
  const [mode, setMode] = useState<'definition' | 'script' | 'git'>(params.get('definition') ? 'definition' : 'script');
  const [git, setGit] = useState({ url: '', path: '', revision: '' });
  const [definitionId, setDefinitionId] = useState(params.get('definition') ?? '');
  const [script, setScript] = useState(SAMPLE);
  const [fileName, setFileName] = useState('dashboard.lua');
  const [name, setName] = useState('');
  const [appName, setAppName] = useState('');
  const [env, setEnv] = useState('');
  const [labels, setLabels] = useState('');
  const [timeout, setTimeoutSeconds] = useState('');
  const [problems, setProblems] = useState<string[]>([]);

  const definitions = useQuery({ queryKey: ['definitions', 'all'], queryFn: ({ signal }) => api.listDefinitions({ limit: 1000 }, signal) });
  const apps = useQuery({ queryKey: ['apps'], queryFn: ({ signal }) => api.apps(signal), retry: false });

  const start = useMutation({
    mutationFn: (body: CreateRunRequest) => api.createRun(body),
    onSuccess: (run) => {
      void queryClient.invalidateQueries({ queryKey: ['runs'] });
      navigate(`/runs/${run.id}`);
    },
  });

  // A pasted script is the runner's; a definition with another env or App may take the editor's (its stored env may hold secrets).
  const chosen = mode === 'definition' ? definitions.data?.items.find((d) => d.id === definitionId) : undefined;
  const needs = chosen ? roleToRunStored(chosen, { env: parseKeyValueText(env, 'variable').values, appName: appName.trim() || undefined }) : 'runner';
  const can = useCan(needs);

  const submit = () => {
    if (!can.allowed) return;
    const envParse = parseKeyValueText(env, 'variable');
    const labelParse = parseKeyValueText(labels, 'label');
    const errors = [...envParse.errors.map((e) => `Environment, ${e}`), ...labelParse.errors.map((e) => `Labels, ${e}`)];
    const timeoutSeconds = timeout.trim() ? Number(timeout) : undefined;
    if (timeoutSeconds !== undefined && (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 86_400)) errors.push('Timeout: a whole number of seconds from 1 to 86400');
    if (mode === 'definition' && !definitionId) errors.push('Definition: choose one');
    if (mode === 'script' && !script.trim()) errors.push('Script: paste or write a Lua script');
    if (mode === 'git' && !git.url.trim()) errors.push('Repository: give its https:// URL');
    if (mode === 'git' && !git.path.trim()) errors.push("Path: give the script's path inside the repository, e.g. tests/smoke.lua");
    setProblems(errors);
    if (errors.length) return;
    const body: CreateRunRequest = { origin: 'ui' };
    if (mode === 'definition') body.definitionId = definitionId;
    else if (mode === 'git') body.source = { git: { url: git.url.trim(), path: git.path.trim(), ...(git.revision.trim() ? { revision: git.revision.trim() } : {}) } };
    else {
      body.script = script;
      if (fileName.trim()) body.fileName = fileName.trim();
    }
    if (name.trim()) body.name = name.trim();
    if (appName.trim()) body.appName = appName.trim();
    if (Object.keys(envParse.values).length) body.env = envParse.values;
    if (Object.keys(labelParse.values).length) body.labels = labelParse.values;
    if (timeoutSeconds !== undefined) body.timeoutSeconds = timeoutSeconds;
    start.mutate(body);
  };

  const defs = definitions.data?.items ?? [];
  return (
    <>
      <div className="page-header">
        <h1>Schedule a run</h1>
      </div>
      <form
        className="card"
        aria-label="New run"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <fieldset>
          <legend>What to run</legend>
          <div className="radio-row">
            <label>
              <input type="radio" name="mode" value="script" checked={mode === 'script'} onChange={() => setMode('script')} />
              A script
            </label>
            <label>
              <input type="radio" name="mode" value="definition" checked={mode === 'definition'} onChange={() => setMode('definition')} />
              A stored definition
            </label>
            <label>
              <input type="radio" name="mode" value="git" checked={mode === 'git'} onChange={() => setMode('git')} />
              A git repository
            </label>
          </div>
        </fieldset>
        {mode === 'git' ? (
          <>
            <div className="field" style={{ maxWidth: 640 }}>
              <label htmlFor="schedule-git-url">Repository</label>
              <input id="schedule-git-url" value={git.url} onChange={(e) => setGit({ ...git, url: e.target.value })} placeholder="https://git.example.com/acme/tests.git" aria-describedby="schedule-git-hint" />
              <span className="hint" id="schedule-git-hint">
                Checked out when the run starts. For a private repository, set <code>GIT_USERNAME</code> and <code>GIT_PASSWORD</code> in the environment below.
              </span>
            </div>
            <div className="field" style={{ maxWidth: 420 }}>
              <label htmlFor="schedule-git-path">Path</label>
              <input id="schedule-git-path" value={git.path} onChange={(e) => setGit({ ...git, path: e.target.value })} placeholder="tests/smoke.lua" />
            </div>
            <div className="field" style={{ maxWidth: 320 }}>
              <label htmlFor="schedule-git-revision">Revision</label>
              <input id="schedule-git-revision" value={git.revision} onChange={(e) => setGit({ ...git, revision: e.target.value })} placeholder="HEAD (branch, tag or commit SHA)" />
            </div>
          </>
        ) : mode === 'definition' ? (
          <div className="field" style={{ maxWidth: 480 }}>
            <label htmlFor="schedule-definition">Definition</label>
            <select id="schedule-definition" value={definitionId} onChange={(e) => setDefinitionId(e.target.value)} disabled={definitions.isPending}>
              <option value="">{definitions.isPending ? 'Loading…' : defs.length ? 'Choose a definition' : 'No definitions yet'}</option>
              {defs.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
            {definitions.isError && <InlineError error={definitions.error} />}
          </div>
        ) : (
          <>
            <div className="field" style={{ maxWidth: 320 }}>
              <label htmlFor="schedule-file">File name</label>
              <input id="schedule-file" value={fileName} onChange={(e) => setFileName(e.target.value)} aria-describedby="schedule-file-hint" />
              <span className="hint" id="schedule-file-hint">
                Shown in failure locations, e.g. <code>{fileName || 'script.lua'}:12</code>.
              </span>
            </div>
            <div className="field">
              <span style={{ fontWeight: 500 }}>Script (Lua)</span>
              <LuaEditor value={script} onChange={setScript} label="Script (Lua)" onSave={submit} minHeight={240} />
            </div>
          </>
        )}
        <div className="form-row">
          <div className="field">
            <label htmlFor="schedule-name">Name</label>
            <input id="schedule-name" value={name} onChange={(e) => setName(e.target.value)} placeholder={mode === 'definition' ? 'the definition name' : 'the file name'} />
          </div>
          <div className="field">
            <label htmlFor="schedule-app">App</label>
            <input id="schedule-app" value={appName} onChange={(e) => setAppName(e.target.value)} list="schedule-apps" placeholder="none" />
            <datalist id="schedule-apps">
              {(apps.data?.items ?? []).map((a) => (
                <option key={a.metadata.name} value={a.metadata.name} />
              ))}
            </datalist>
          </div>
          <div className="field">
            <label htmlFor="schedule-timeout">Timeout (seconds)</label>
            <input id="schedule-timeout" type="number" min={1} max={86400} value={timeout} onChange={(e) => setTimeoutSeconds(e.target.value)} placeholder="600" />
          </div>
        </div>
        <div className="form-row">
          <KeyValueField label="Environment" what="variable" value={env} onChange={setEnv} hint="One NAME=value per line; the script reads env.NAME." />
          <KeyValueField label="Labels" what="label" value={labels} onChange={setLabels} hint="One key=value per line, to filter runs by." />
        </div>
        {problems.length > 0 && (
          <div className="inline-error" role="alert">
            {problems.join('\n')}
          </div>
        )}
        <InlineError error={start.error} />
        <GuardedButton needs={needs} type="submit" className="primary" disabled={start.isPending}>
          {start.isPending ? 'Starting…' : 'Start run'}
        </GuardedButton>
      </form>
    </>
  );
}
