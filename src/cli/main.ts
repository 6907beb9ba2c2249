/** Entry point of the `topas` / `kctrl` binary. */
import { processContext } from './context.js';
import { runCli } from './program.js';

// A reader that stops early (`topas test logs ID | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await runCli(processContext(), process.argv);
