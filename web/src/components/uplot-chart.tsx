/**
 * A uPlot chart that fills its container's width and follows the colour scheme.
 * `build` turns the current theme colours into uPlot options; the chart is
 * rebuilt when they, the data or the size change.
 */
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** The value of a CSS variable on :root (phase colours, text colour), for the canvas. */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function useColorScheme(): string {
  const query = typeof window !== 'undefined' ? window.matchMedia?.('(prefers-color-scheme: dark)') : undefined;
  const [scheme, setScheme] = useState(query?.matches ? 'dark' : 'light');
  useEffect(() => {
    if (!query) return;
    const onChange = () => setScheme(query.matches ? 'dark' : 'light');
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, [query]);
  return scheme;
}

export interface UplotChartProps {
  data: uPlot.AlignedData;
  /** Options without width/height; called again when the colour scheme changes. */
  build: () => Omit<uPlot.Options, 'width' | 'height'>;
  height?: number;
  /** What the chart shows, for screen readers (the tables next to it carry the numbers). */
  label: string;
}

export function UplotChart({ data, build, height = 240, label }: UplotChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const scheme = useColorScheme();
  const buildRef = useRef(build);
  buildRef.current = build;

  useEffect(() => {
    const el = host.current!;
    const width = Math.max(300, el.clientWidth);
    const u = new uPlot({ ...buildRef.current(), width, height }, data, el);
    chart.current = u;
    const observer = new ResizeObserver(() => {
      const w = Math.max(300, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      u.destroy();
      chart.current = null;
    };
  }, [data, height, scheme]);

  return <div className="chart" ref={host} role="img" aria-label={label} />;
}
