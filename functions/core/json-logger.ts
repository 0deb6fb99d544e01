/**
 * Structured JSON logs, one line per entry on stdout, in the field layout of Powertools Logger (`level`,
 * `message`, `timestamp`, `service`, the invocation's `function_request_id` …) so log queries and the
 * docs work the same. Hand-written instead of Powertools Logger: the guard needs levels and context keys
 * only, and Powertools' logger and commons cost ~21 KB of bundle and measurable start-up on every cold
 * start (README "Performance").
 */
import type { Log } from './log.ts';

const LEVELS = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 100 } as const;
type Level = keyof typeof LEVELS;

/** The level from POWERTOOLS_LOG_LEVEL, else Lambda's AWS_LAMBDA_LOG_LEVEL, else INFO (also for unknown names). */
export function logLevelFrom(env: Record<string, string | undefined>): Level {
  const wanted = (env.POWERTOOLS_LOG_LEVEL ?? env.AWS_LAMBDA_LOG_LEVEL ?? 'INFO').toUpperCase();
  if (wanted === 'TRACE') return 'DEBUG';
  if (wanted === 'CRITICAL' || wanted === 'FATAL') return 'ERROR';
  return wanted in LEVELS ? (wanted as Level) : 'INFO';
}

/** Errors become {name, message, stack, cause}; everything else as JSON has it. */
function plain(value: unknown, depth = 0): unknown {
  if (value instanceof Error) {
    return {
      name: value.name,
      message: value.message,
      stack: value.stack,
      ...(value.cause !== undefined && depth < 3 ? { cause: plain(value.cause, depth + 1) } : {}),
    };
  }
  return value;
}

export interface JsonLoggerOptions {
  service: string;
  level?: Level;
  write?: (line: string) => void;
  now?: () => Date;
}

export class JsonLogger implements Log {
  private context: Record<string, unknown> = {};
  private readonly threshold: number;
  private readonly service: string;
  private readonly write: (line: string) => void;
  private readonly now: () => Date;

  constructor(options: JsonLoggerOptions) {
    this.service = options.service;
    this.threshold = LEVELS[options.level ?? 'INFO'];
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? (() => new Date());
  }

  /** Keys added to every entry until replaced (the current invocation's). */
  setContext(context: Record<string, unknown>): void {
    this.context = context;
  }

  debug(message: string, extra?: Record<string, unknown>): void {
    this.emit('DEBUG', message, extra);
  }
  info(message: string, extra?: Record<string, unknown>): void {
    this.emit('INFO', message, extra);
  }
  warn(message: string, extra?: Record<string, unknown>): void {
    this.emit('WARN', message, extra);
  }
  error(message: string, extra?: Record<string, unknown>): void {
    this.emit('ERROR', message, extra);
  }

  private emit(level: Level, message: string, extra: Record<string, unknown> = {}): void {
    if (LEVELS[level] < this.threshold) return;
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(extra)) fields[k] = plain(v);
    const entry = {
      level,
      message,
      timestamp: this.now().toISOString(),
      service: this.service,
      ...this.context,
      ...fields,
    };
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch {
      // A value JSON cannot hold (a cycle, a BigInt) must not lose the entry.
      line = JSON.stringify({
        level,
        message,
        timestamp: entry.timestamp,
        service: this.service,
        ...this.context,
      });
    }
    this.write(line);
  }
}

let coldStart = true;

/** A middy middleware that adds the invocation's keys (request id, function, cold start) to every log line. */
export function injectLambdaContext(logger: JsonLogger) {
  return {
    before: (request: {
      context?: {
        functionName?: string;
        awsRequestId?: string;
        invokedFunctionArn?: string;
        memoryLimitInMB?: string;
      };
    }) => {
      const c = request.context ?? {};
      logger.setContext({
        cold_start: coldStart,
        ...(c.functionName ? { function_name: c.functionName } : {}),
        ...(c.invokedFunctionArn ? { function_arn: c.invokedFunctionArn } : {}),
        ...(c.awsRequestId ? { function_request_id: c.awsRequestId } : {}),
        ...(process.env._X_AMZN_TRACE_ID ? { xray_trace_id: process.env._X_AMZN_TRACE_ID } : {}),
      });
      coldStart = false;
    },
  };
}
