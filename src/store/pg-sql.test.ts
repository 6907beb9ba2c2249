/** Opening PostgreSQL: a database that does not answer is a clear error at start, naming the URL but not its password. */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, openPostgres } from './pg-sql.js';

/** A port on 127.0.0.1 that nothing listens on (taken, then given back). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('openPostgres', () => {
  it('rejects at once with DatabaseUnavailable when nothing answers, naming the URL without its password', async () => {
    const port = await closedPort();
    const error = await openPostgres(`postgres://app:s3cret@127.0.0.1:${port}/shop`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error).toMatchObject({ code: 'DatabaseUnavailable', details: { code: 'ECONNREFUSED' } });
    const message = (error as Error).message;
    expect(message).toContain(`postgres://app:***@127.0.0.1:${port}/shop`);
    expect(message).toContain('ECONNREFUSED');
    expect(message).toContain('check DATABASE_URL');
    expect(message).not.toContain('s3cret');
  });
});
