/** A test's duration over its loaded results: passes as a line, failures as red points. */
import uPlot from 'uplot';
import { formatCount, formatDuration } from '../lib/format';
import type { DurationChartData } from '../lib/test-history';
import { UplotChart, cssVar } from './uplot-chart';

export default function DurationChart({ chart }: { chart: DurationChartData }) {
  const data = chart.data as uPlot.AlignedData;
  return (
    <>
      <UplotChart
        data={data}
        label={`Duration of the last ${chart.points} results`}
        height={200}
        build={() => {
          const stroke = cssVar('--muted');
          const grid = { stroke: cssVar('--border'), width: 1 };
          return {
            scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
            axes: [
              { stroke, grid, ticks: grid },
              { stroke, grid, ticks: grid, size: 60, values: (_u, splits) => splits.map((v) => formatDuration(v)) },
            ],
            series: [
              {},
              { label: 'Passed', stroke: cssVar('--phase-Passed'), width: 1, spanGaps: true, points: { show: true, size: 6, fill: cssVar('--phase-Passed') }, value: (_u, v) => formatDuration(v) },
              { label: 'Failed', stroke: cssVar('--phase-Failed'), width: 0, points: { show: true, size: 7, fill: cssVar('--phase-Failed') }, value: (_u, v) => formatDuration(v) },
            ],
          };
        }}
      />
      <p className="subtitle">Of the {formatCount(chart.points)} results loaded below, oldest on the left.</p>
    </>
  );
}
