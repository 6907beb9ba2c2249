/** Entry point of the `topas` / `kctrl` binary. */
import { processContext } from './context.js';
import { runCli } from './program.js';

process.exitCode = await runCli(processContext(), process.argv);
