/**
 * The steps of a run as a timeline: each test, step and hook with its status, a
 * bar showing when it ran within the run, its duration, and its assertions. Failed
 * steps start expanded with their failed assertions (message, differences,
 * expected/actual and `file:line`); passed assertions fold into a count. A failure's
 * details (an `expect` diff) show once: with its assertion, else with the innermost
 * step it failed (`detailPlaces`); the other steps it failed show its first line.
 */
import { createContext, useContext, useEffect, useMemo, useState } from 'react';
import type { AssertionRecord } from '../api/types';
import { detailLines, detailPlaces, headline, type DetailPlaces } from '../lib/domain';
import { formatDuration, locationOf, withLocation } from '../lib/format';
import type { StepNode, StepTree } from '../lib/step-tree';
import { ExpectedActual } from './expected-actual';

const Places = createContext<DetailPlaces>({ run: false, steps: new Set(), assertions: new Set() });

/** Every step and assertion of the tree. */
function flatten(tree: StepTree): { steps: StepNode['step'][]; assertions: AssertionRecord[] } {
  const steps: StepNode['step'][] = [];
  const assertions: AssertionRecord[] = [...tree.looseAssertions];
  const visit = (node: StepNode) => {
    steps.push(node.step);
    assertions.push(...node.assertions);
    node.children.forEach(visit);
  };
  tree.roots.forEach(visit);
  return { steps, assertions };
}

const STATUS_ICON: Record<string, string> = { passed: '✓', failed: '✗', skipped: '–', running: '●' };

/** `places`: where failure details show (the run page passes the one it also uses for the run's message). */
export function StepTimeline({ tree, places }: { tree: StepTree; places?: DetailPlaces }) {
  const own = useMemo(() => places ?? detailPlaces({ message: null, ...flatten(tree) }), [places, tree]);
  if (!tree.roots.length && !tree.looseAssertions.length) return <p className="subtitle">No steps or assertions recorded (yet).</p>;
  return (
    <Places.Provider value={own}>
      <div>
        <ul className="timeline" aria-label="Steps">
          {tree.roots.map((node) => (
            <StepItem key={node.step.seq} node={node} />
          ))}
        </ul>
        {tree.looseAssertions.length > 0 && (
          <div style={{ marginTop: 8 }}>
            <h3>Assertions outside any step</h3>
            <AssertionList assertions={tree.looseAssertions} />
          </div>
        )}
      </div>
    </Places.Provider>
  );
}

function StepItem({ node }: { node: StepNode }) {
  const { step } = node;
  const places = useContext(Places);
  const [open, setOpen] = useState(node.hasFailure);
  // A step that fails while the page is open unfolds too.
  useEffect(() => {
    if (node.hasFailure) setOpen(true);
  }, [node.hasFailure]);
  const expandable = node.children.length > 0 || node.assertions.length > 0 || !!step.message;
  const bodyId = `step-body-${step.seq}`;
  return (
    <li className="step" data-testid="step" data-status={step.status}>
      <div className="step-head">
        <div className="step-name" style={{ paddingLeft: node.depth * 20 }}>
          {expandable ? (
            <button type="button" className="toggle" aria-expanded={open} aria-controls={bodyId} onClick={() => setOpen(!open)} aria-label={`${open ? 'Collapse' : 'Expand'} ${step.name}`}>
              {open ? '▾' : '▸'}
            </button>
          ) : (
            <span style={{ width: 20, display: 'inline-block' }} />
          )}
          <span className={`status-icon status-${step.status}`} aria-hidden="true">
            {STATUS_ICON[step.status]}
          </span>
          <span className="visually-hidden">{step.status}</span>
          <span className="name" title={step.name}>
            {step.name}
          </span>
          {step.kind !== 'step' && <span className="step-kind">{step.kind}</span>}
        </div>
        <div className="bar-track" aria-hidden="true">
          <div className={`bar ${step.status}`} style={{ left: `${node.offset * 100}%`, width: `${node.width * 100}%` }} />
        </div>
        <div className="step-duration">{step.status === 'running' ? 'running' : formatDuration(step.durationMs)}</div>
      </div>
      {open && expandable && (
        // Children are not indented as a block (only their names are), so every bar shares one time axis.
        <div id={bodyId}>
          {(step.message || node.assertions.length > 0) && (
            <div className="step-body" style={{ paddingLeft: node.depth * 20 + 46 }}>
              {step.message && (
                <div className="step-message">
                  {withLocation(places.steps.has(step.seq) ? step.message : headline(step.message), locationOf(step))}
                </div>
              )}
              {node.assertions.length > 0 && <AssertionList assertions={node.assertions} />}
            </div>
          )}
          {node.children.length > 0 && (
            <ul className="timeline">
              {node.children.map((child) => (
                <StepItem key={child.step.seq} node={child} />
              ))}
            </ul>
          )}
        </div>
      )}
    </li>
  );
}

function AssertionList({ assertions }: { assertions: AssertionRecord[] }) {
  const failed = assertions.filter((a) => !a.passed);
  const passed = assertions.filter((a) => a.passed);
  return (
    <>
      {failed.length > 0 && (
        <ul className="assertions" aria-label="Failed assertions">
          {failed.map((a) => (
            <li key={a.seq} className="assertion failed" data-testid="failed-assertion">
              <span className="status-icon status-failed" aria-hidden="true">
                ✗
              </span>{' '}
              <span className="message">{headline(a.message)}</span>
              {locationOf(a) && <span className="where">{locationOf(a)}</span>}
              <ExpectedActual expected={a.expected} actual={a.actual} differences={detailLines(a.message)} />
            </li>
          ))}
        </ul>
      )}
      {passed.length > 0 && (
        <details className="passed-assertions">
          <summary>
            {passed.length} passed assertion{passed.length === 1 ? '' : 's'}
          </summary>
          <ul className="assertions">
            {passed.map((a) => (
              <li key={a.seq} className="assertion">
                <span className="status-icon status-passed" aria-hidden="true">
                  ✓
                </span>{' '}
                {a.message}
                {locationOf(a) && <span className="where">{locationOf(a)}</span>}
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}
