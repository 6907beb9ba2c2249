import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFolderInUseError, LOCK_FILE, lockDataFolder, showPath, type LockHolder } from './data-folder-lock.js';

const top = mkdtempSync(join(tmpdir(), 'topas-lock-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(top, `data-${++n}`);

/** The pid of a process that has exited (a killed holder). */
function deadPid(): number {
  return spawnSync('true').pid!;
}

/** Writes the lock a killed topas would have left. */
function writeStaleLock(dir: string, holder: Partial<LockHolder> = {}): void {
  const record: LockHolder = { pid: deadPid(), startTime: '1', bootId: null, hostname: hostname(), startedAt: '2020-01-01T00:00:00.000Z', token: 'dead0001', ...holder };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(record));
}

const holderOf = (dir: string) => JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockHolder;

describe('lockDataFolder', () => {
  it('holds the folder: a second taker gets the holder in the message and writes nothing', async () => {
    const dir = freshDir();
    const lock = await lockDataFolder(dir);
    expect(holderOf(dir)).toMatchObject({ pid: process.pid, token: lock.holder.token });
    const before = readdirSync(dir);
    const error = await lockDataFolder(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataFolderInUseError);
    expect((error as Error).message).toMatch(new RegExp(`^data folder ${dir} is in use by PID ${process.pid} \\(started \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\); stop it or use --data$`));
    expect(readdirSync(dir)).toEqual(before);
    await lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    await (await lockDataFolder(dir)).release();
  });

  it('shows the folder relative to the working directory when it is inside it', () => {
    expect(showPath('/home/me/project/.topas', '/home/me/project')).toBe('./.topas');
    expect(showPath('/home/me/project', '/home/me/project')).toBe('.');
    expect(showPath('/var/lib/topas', '/home/me/project')).toBe('/var/lib/topas');
  });

  it('takes over a lock whose holder is dead, whose pid was reused, or that is not a lock record', async () => {
    const dead = freshDir();
    writeStaleLock(dead);
    const a = await lockDataFolder(dead);
    expect(holderOf(dead).token).toBe(a.holder.token);
    await a.release();

    // Our own pid, but another start time: a reused pid, not the holder.
    const reused = freshDir();
    writeStaleLock(reused, { pid: process.pid, startTime: '1' });
    await (await lockDataFolder(reused)).release();

    const garbage = freshDir();
    mkdirSync(garbage, { recursive: true });
    writeFileSync(join(garbage, LOCK_FILE), '');
    await (await lockDataFolder(garbage)).release();
  });

  it('a start killed while taking over does not block the next one', async () => {
    const dir = freshDir();
    writeStaleLock(dir, { token: 'dead0002' });
    writeFileSync(join(dir, `${LOCK_FILE}.takeover-dead0002-1`), JSON.stringify({ pid: deadPid(), startTime: '1', bootId: null, hostname: hostname(), startedAt: '', token: 'dead0003' }));
    const lock = await lockDataFolder(dir);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    await lock.release();
  });

  it('a lock from another host is held while it is refreshed and stale a minute after', async () => {
    const dir = freshDir();
    writeStaleLock(dir, { hostname: 'elsewhere', pid: 1 });
    const error = await lockDataFolder(dir).catch((e: unknown) => e);
    expect((error as Error).message).toContain('in use by PID 1 on host elsewhere');
    const old = new Date(Date.now() - 120_000);
    spawnSync('touch', ['-d', old.toISOString(), join(dir, LOCK_FILE)]);
    await (await lockDataFolder(dir)).release();
  });
});

/** A contender process (`testing/lock-contender.ts`): one line in, one line out. */
interface Contender {
  child: ChildProcess;
  lines: Interface;
  ask(command: string): Promise<string>;
}

const CONTENDER = fileURLToPath(new URL('./testing/lock-contender.ts', import.meta.url));

function startContender(): Contender {
  const child = spawn(process.execPath, ['--import', 'tsx', CONTENDER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  return {
    child,
    lines,
    ask(command) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin!.write(`${command}\n`);
      });
    },
  };
}

describe('starts racing for a stale lock', () => {
  it('exactly one of four processes wins, every round', async () => {
    const contenders = Array.from({ length: 4 }, startContender);
    try {
      // Warm up (tsx compiles on first import): each takes and releases a folder of its own.
      await Promise.all(contenders.map(async (c, i) => {
        expect(await c.ask(`acquire ${join(top, `warm-${i}`)}`)).toBe('won');
        expect(await c.ask('release')).toBe('released');
      }));
      for (let round = 0; round < 15; round++) {
        const dir = freshDir();
        writeStaleLock(dir, { token: `dead${round.toString(16).padStart(4, '0')}` });
        const answers = await Promise.all(contenders.map((c) => c.ask(`acquire ${dir}`)));
        const winners = answers.filter((a) => a === 'won');
        expect(winners, answers.join('\n')).toHaveLength(1);
        const winner = contenders[answers.indexOf('won')]!;
        for (const a of answers.filter((x) => x !== 'won')) expect(a).toContain(`is in use by PID ${winner.child.pid} `);
        expect(holderOf(dir).pid).toBe(winner.child.pid);
        expect(await winner.ask('release')).toBe('released');
      }
    } finally {
      for (const c of contenders) c.child.kill();
    }
  }, 120_000);
});
