/**
 * A failure the CLI reports as `error: <message>` and exits with `exitCode`.
 * Exit codes fit CI: 0 passed, 1 the test failed, 2 anything else (the run
 * errored, timed out or was cancelled; bad usage; topas unreachable).
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** An error answer of the topas API. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message, 2);
    this.name = 'ApiError';
  }
}
