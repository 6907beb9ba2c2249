/**
 * The core's words, used as they are: the dashboard shows the same phases and
 * origins as the API, the CLI and the database (one Run model, one state machine).
 */
export { RUN_PHASES, TERMINAL_PHASES, isRunPhase, isTerminal } from '../../../src/core/run-phase';
export { RUN_ORIGINS } from '../../../src/core/run';
/** A failure's first line and its details (an `expect` diff), shown once: the CLI's rule too. */
export { detailLines, detailPlaces, headline, type DetailPlaces } from '../../../src/core/failure-text';
