// What every scenario gets: the runtimes, the repetition counts, the rows it fills, a logger.
import type { Runtime } from './runtimes.js';
import type { Row } from './stats.js';

export interface Counts {
  /** Sequential `run` of /bin/true per runtime. */
  runs: number;
  /** create/state/start/exec/kill/delete cycles per runtime. */
  cycles: number;
  /** Repetitions of the 20-parallel batch. */
  parallelReps: number;
  /** Size and repetitions of the density batch. */
  densityN: number;
  densityReps: number;
  /** Confirmation runs at the smallest working memory limit. */
  limitConfirm: number;
  /** Size and repetitions of the burst of `run`s. */
  burstN: number;
  burstReps: number;
  /** Rounds of each engine scenario (0: the engine rows are skipped). */
  engineReps: number;
}

export const FULL: Counts = { runs: 100, cycles: 60, parallelReps: 10, densityN: 200, densityReps: 3, limitConfirm: 5, burstN: 50, burstReps: 3, engineReps: 10 };
export const QUICK: Counts = { runs: 10, cycles: 5, parallelReps: 2, densityN: 30, densityReps: 1, limitConfirm: 2, burstN: 50, burstReps: 1, engineReps: 0 };

export interface Ctx {
  runtimes: Runtime[];
  counts: Counts;
  rows: Row[];
  /** Failures worth reporting under the table (a runtime that could not do something). */
  problems: string[];
  log(msg: string): void;
}
