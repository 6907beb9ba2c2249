/**
 * A service's log: the last lines of its replicas' stdout/stderr in memory (for
 * `logs()` and error messages), each prefixed with the replica index, and the same
 * lines appended to a file in the App's state folder (rotated at 10 MiB, one old file
 * kept) for people to read after the fact.
 */
import { createWriteStream, renameSync, statSync, type WriteStream } from 'node:fs';

const MAX_FILE_BYTES = 10 * 1024 * 1024;
const MAX_LINE_CHARS = 8192;

/** Splits a byte stream into lines; a partial last line waits for its end (or `flush`). */
export class LineSplitter {
  private partial = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const lines = text.split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    if (this.partial.length > MAX_LINE_CHARS) {
      lines.push(this.partial);
      this.partial = '';
    }
    for (const line of lines) this.onLine(line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line);
  }

  flush(): void {
    if (this.partial) this.onLine(this.partial);
    this.partial = '';
  }
}

/** The last `capacity` lines of a service, in arrival order across its replicas. */
export class ServiceLog {
  private readonly lines: string[] = [];
  private file: WriteStream | null = null;
  private fileBytes = 0;

  constructor(
    private readonly capacity: number,
    private readonly filePath: string | null,
  ) {}

  /** Appends one line of replica `index` ("[0] listening on ..."). */
  append(index: number, line: string): void {
    const entry = `[${index}] ${line}`;
    this.lines.push(entry);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
    this.writeFile(`${new Date().toISOString()} ${entry}\n`);
  }

  /** The last `n` lines. */
  tail(n: number): string[] {
    return n <= 0 ? [] : this.lines.slice(-n);
  }

  close(): void {
    this.file?.end();
    this.file = null;
  }

  private writeFile(text: string): void {
    if (!this.filePath) return;
    try {
      if (!this.file) {
        try {
          this.fileBytes = statSync(this.filePath).size;
        } catch {
          this.fileBytes = 0;
        }
        this.file = createWriteStream(this.filePath, { flags: 'a' });
        this.file.on('error', () => {
          this.file = null;
        });
      }
      if (this.fileBytes > MAX_FILE_BYTES) {
        this.file.end();
        renameSync(this.filePath, `${this.filePath}.1`);
        this.file = createWriteStream(this.filePath, { flags: 'a' });
        this.fileBytes = 0;
      }
      this.file.write(text);
      this.fileBytes += Buffer.byteLength(text);
    } catch {
      // The file is for people; the in-memory tail is what the API serves.
    }
  }
}
