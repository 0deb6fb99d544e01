/**
 * The logging surface every core step takes: four levels and structured fields, nothing more. The Lambda
 * functions pass their JSON logger (json-logger.ts), the CLI its printer, tests a silent or recording one, so
 * the core never knows where its lines go.
 */

/** The logging surface the core needs; Powertools' Logger and the CLI's printer both satisfy it. */
export interface Log {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** A Log that drops every line (benchmarks, tests). */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
