/**
 * A process that contends for a data folder lock, for the lock's race tests. Reads
 * commands from stdin, one per line: `acquire <dir>` answers `won` or `lost <message>`,
 * `release` releases what it holds and answers `released`.
 */
import { createInterface } from 'node:readline';
import { lockDataFolder, type DataFolderLock } from '../data-folder-lock.js';

let lock: DataFolderLock | null = null;
for await (const line of createInterface({ input: process.stdin })) {
  const [command, dir] = line.split(' ');
  if (command === 'acquire') {
    try {
      lock = await lockDataFolder(dir!);
      process.stdout.write('won\n');
    } catch (error) {
      process.stdout.write(`lost ${(error as Error).message}\n`);
    }
  } else if (command === 'release') {
    await lock?.release();
    lock = null;
    process.stdout.write('released\n');
  }
}
