/** The Lua editor, loaded on first use: CodeMirror is most of the dashboard's code, and a run's log should not wait for it. */
import { Suspense, lazy } from 'react';
import type { LuaEditorProps } from './lua-editor';

const LuaEditor = lazy(() => import('./lua-editor').then((m) => ({ default: m.LuaEditor })));

export function LazyLuaEditor(props: LuaEditorProps) {
  return (
    <Suspense fallback={<pre className="code-editor" style={{ padding: 8, margin: 0, minHeight: 80, overflow: 'auto' }}>{props.value}</pre>}>
      <LuaEditor {...props} />
    </Suspense>
  );
}
