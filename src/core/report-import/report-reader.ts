/** The reader of each report format. */
import { GaugeConsoleReader } from './gauge-console-reader.js';
import type { ReportFormat, ReportReader, ReportSink } from './imported-case.js';
import { JUnitReader } from './junit-reader.js';

export function createReportReader(format: ReportFormat, fileName: string, sink: ReportSink): ReportReader {
  return format === 'gauge-stdout' ? new GaugeConsoleReader(fileName, sink) : new JUnitReader(fileName, sink);
}
