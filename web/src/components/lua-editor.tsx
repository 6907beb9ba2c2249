/**
 * A Lua code editor (CodeMirror 6 with the Lua stream mode): syntax highlighting,
 * line numbers, undo history; read-only for a run's script. Tab is left to the
 * browser, so the editor never traps keyboard focus. Colours come from CSS
 * variables, so it follows the light/dark theme.
 */
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { HighlightStyle, StreamLanguage, bracketMatching, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lua } from '@codemirror/legacy-modes/mode/lua';
import { EditorState, RangeSetBuilder, type Extension } from '@codemirror/state';
import { Decoration, EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { useEffect, useRef } from 'react';

const luaLanguage = StreamLanguage.define(lua);

const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: 'var(--syntax-keyword)', fontWeight: '600' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--syntax-string)' },
  { tag: tags.number, color: 'var(--syntax-number)' },
  { tag: [tags.comment, tags.lineComment, tags.blockComment], color: 'var(--syntax-comment)', fontStyle: 'italic' },
  { tag: [tags.standard(tags.variableName), tags.special(tags.variableName)], color: 'var(--syntax-builtin)' },
  { tag: tags.variableName, color: 'var(--syntax-variable)' },
  { tag: tags.operator, color: 'var(--syntax-operator)' },
]);

/** Marks lines (1-based), e.g. where assertions failed. */
function markLines(lines: readonly number[]): Extension {
  return EditorView.decorations.compute([], (state) => {
    const builder = new RangeSetBuilder<Decoration>();
    for (const n of [...new Set(lines)].sort((a, b) => a - b)) {
      if (n >= 1 && n <= state.doc.lines) builder.add(state.doc.line(n).from, state.doc.line(n).from, Decoration.line({ class: 'failure-line' }));
    }
    return builder.finish();
  });
}

export interface LuaEditorProps {
  value: string;
  onChange?: (value: string) => void;
  readOnly?: boolean;
  /** The accessible name of the editor, e.g. "Script of checkout-smoke". */
  label: string;
  /** 1-based lines to highlight as failures. */
  failureLines?: readonly number[];
  /** Fired on Ctrl/Cmd-S. */
  onSave?: () => void;
  minHeight?: number;
}

export function LuaEditor({ value, onChange, readOnly = false, label, failureLines = [], onSave, minHeight = 160 }: LuaEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const callbacks = useRef({ onChange, onSave });
  callbacks.current = { onChange, onSave };
  const failureKey = failureLines.join(',');

  useEffect(() => {
    const extensions: Extension[] = [
      lineNumbers(),
      drawSelection(),
      luaLanguage,
      syntaxHighlighting(highlight),
      bracketMatching(),
      EditorView.contentAttributes.of({ 'aria-label': label }),
      // The documented way to give CodeMirror a minimum height: content and gutter both.
      EditorView.theme({ '.cm-content, .cm-gutter': { minHeight: `${minHeight}px` } }),
      markLines(failureKey ? failureKey.split(',').map(Number) : []),
      EditorState.readOnly.of(readOnly),
      EditorView.editable.of(!readOnly),
    ];
    if (!readOnly) {
      extensions.push(
        history(),
        indentOnInput(),
        highlightActiveLine(),
        highlightActiveLineGutter(),
        keymap.of([{ key: 'Mod-s', preventDefault: true, run: () => (callbacks.current.onSave?.(), true) }, ...defaultKeymap, ...historyKeymap]),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) callbacks.current.onChange?.(update.state.doc.toString());
        }),
      );
    } else {
      // Read-only content stays focusable, so keyboard users can scroll and select it.
      extensions.push(EditorView.contentAttributes.of({ tabindex: '0' }));
    }
    const editor = new EditorView({ parent: host.current!, state: EditorState.create({ doc: value, extensions }) });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
    // The editor is rebuilt only when its configuration changes; `value` is synced below.
  }, [readOnly, label, failureKey, minHeight]);

  // Replace the document when the value changes from outside (a loaded definition, another run).
  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== value) {
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
    }
  }, [value]);

  return <div className="code-editor" ref={host} data-testid="lua-editor" />;
}
