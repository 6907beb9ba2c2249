/**
 * `topas worker --nats nats://…`: an executor worker of the `nats` executor
 * (`executors/nats/nats-worker.ts`). Pulls runs a topas server (`topas up --nats`)
 * published to the JetStream work queue and executes `--concurrency` of them at once as
 * remote runners. Prints one line per finished run on stdout, its own diagnostics on
 * stderr; SIGINT/SIGTERM stop pulling and let the runs in hand finish.
 */
import type { Command } from 'commander';
import { loadWorkerConfig, type WorkerConfig, type WorkerFlags } from '../../config/config.js';
import { ValidationError } from '../../core/errors.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { formatDuration, paintPhase } from '../format.js';

export function registerWorker(program: Command, ctx: CliContext): void {
  program
    .command('worker')
    .description('execute runs that a topas server (topas up --nats) hands out through NATS JetStream')
    .option('--nats <url>', 'the NATS server, e.g. nats://127.0.0.1:4222 (or TOPAS_NATS_URL; credentials as nats://user:pass@host)')
    .option('--concurrency <n>', 'runs executed at once (default 4 × CPU cores, or TOPAS_WORKER_CONCURRENCY)')
    .option('--workers <n>', 'Lua worker threads (default: CPU cores, or TOPAS_WORKERS)')
    .option('--nats-stream <name>', 'the JetStream stream of the work queue (default TOPAS_RUNS, or TOPAS_NATS_STREAM)')
    .option('--nats-subject <prefix>', 'the subject prefix of run messages (default topas.runs, or TOPAS_NATS_SUBJECT)')
    .option('--ack-wait-seconds <n>', "how long a run taken by a worker that died before starting it waits before another worker gets it (default 30; or TOPAS_NATS_ACK_WAIT_SECONDS; set when the queue's consumer is created)")
    .action(async (flags: WorkerFlags) => {
      let config: WorkerConfig;
      try {
        config = loadWorkerConfig(flags, ctx.env);
      } catch (err) {
        if (err instanceof ValidationError) throw new CliError(`invalid setting ${err.message}`);
        throw err;
      }
      const { startNatsWorker } = await import('../../executors/nats/nats-worker.js');
      const { createStreamLogger } = await import('../../server/logger.js');
      const log = createStreamLogger({ level: config.logLevel, format: config.logFormat, stream: { write: (line) => ctx.err(line.trimEnd()) } });
      const s = ctx.style;
      let worker: Awaited<ReturnType<typeof startNatsWorker>>;
      try {
        worker = await startNatsWorker({
          url: config.nats,
          names: { stream: config.stream, subject: config.subject },
          concurrency: config.concurrency,
          luaWorkers: config.luaWorkers,
          memoryLimitBytes: config.memoryLimitMb * 1024 * 1024,
          ackWaitMs: config.ackWaitSeconds * 1000,
          egress: config.egress,
          onRunEnded: (runId, completion, ms) => {
            const why = completion.reason && completion.phase !== 'Passed' ? ` — ${completion.reason}` : '';
            ctx.out(`${runId} ${paintPhase(s, completion.phase)} in ${formatDuration(ms)}${why}`);
          },
          log,
        });
      } catch (err) {
        if ((err as { code?: string }).code === 'NatsUnavailable') throw new CliError(`--nats: ${(err as Error).message}`);
        throw err;
      }
      ctx.out(`topas worker pulling runs from ${s.bold(config.stream)} at ${config.nats.replace(/\/\/[^@/]*@/, '//')} (${config.concurrency} at once, ${config.luaWorkers} Lua workers)`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          ctx.err(`${signal}: stopping the worker; ${worker.active} runs in hand finish first…`);
          void worker.stop().then(resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
