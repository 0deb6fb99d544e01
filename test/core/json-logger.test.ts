/**
 * The JSON logger (functions/core/json-logger.ts), its output captured: the Powertools field layout, log
 * levels from the environment, one line per entry whatever the values hold, and the Lambda context keys.
 */
import { describe, expect, it } from 'vitest';
import { injectLambdaContext, JsonLogger, logLevelFrom } from '../../functions/core/json-logger.ts';

function capture(level?: Parameters<typeof logLevelFrom>[0]) {
  const lines: string[] = [];
  const logger = new JsonLogger({
    service: 'logs-kms-guard',
    ...(level ? { level: logLevelFrom(level) } : {}),
    write: (line) => lines.push(line),
    now: () => new Date('2026-11-28T12:00:00.000Z'),
  });
  return { logger, entries: () => lines.map((l) => JSON.parse(l)), lines };
}

describe('JsonLogger', () => {
  it('writes one JSON line per entry in the Powertools field layout', () => {
    // Prepare
    const { logger, entries } = capture();
    // Act
    logger.info('decision', { outcome: 'encrypted', logGroupName: '/x' });
    // Assess
    expect(entries()).toEqual([
      {
        level: 'INFO',
        message: 'decision',
        timestamp: '2026-11-28T12:00:00.000Z',
        service: 'logs-kms-guard',
        outcome: 'encrypted',
        logGroupName: '/x',
      },
    ]);
  });

  it('drops entries below the level from POWERTOOLS_LOG_LEVEL, else AWS_LAMBDA_LOG_LEVEL, else INFO', () => {
    expect(logLevelFrom({})).toBe('INFO');
    expect(logLevelFrom({ AWS_LAMBDA_LOG_LEVEL: 'debug' })).toBe('DEBUG');
    expect(logLevelFrom({ POWERTOOLS_LOG_LEVEL: 'WARN', AWS_LAMBDA_LOG_LEVEL: 'DEBUG' })).toBe('WARN');
    expect(logLevelFrom({ POWERTOOLS_LOG_LEVEL: 'nonsense' })).toBe('INFO');
    const { logger, entries } = capture({ POWERTOOLS_LOG_LEVEL: 'WARN' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(entries().map((e) => e.level)).toEqual(['WARN', 'ERROR']);
  });

  it('keeps a newline in a value inside its line: a log group name cannot forge an entry', () => {
    const { logger, lines } = capture();
    logger.warn('decision', { logGroupName: '/ok\n{"level":"INFO","message":"decision"}' });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.split('\n')).toHaveLength(1);
  });

  it('writes errors with name, message and cause; keeps the entry when a value cannot be JSON', () => {
    // Prepare
    const { logger, entries } = capture();
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    // Act
    logger.error('failed', { error: new Error('outer', { cause: new TypeError('inner') }) });
    logger.error('odd value', { cycle });
    // Assess
    const [first, second] = entries();
    expect(first.error).toMatchObject({ name: 'Error', message: 'outer', cause: { name: 'TypeError' } });
    expect(second).toMatchObject({ level: 'ERROR', message: 'odd value' });
  });
});

describe('injectLambdaContext', () => {
  it('adds the invocation keys to every entry, with cold_start true only the first time', () => {
    // Prepare
    const { logger, entries } = capture();
    const middleware = injectLambdaContext(logger);
    const context = {
      functionName: 'enforce',
      awsRequestId: 'req-1',
      invokedFunctionArn: 'arn:aws:lambda:x',
    };
    // Act
    middleware.before({ context });
    logger.info('one');
    middleware.before({ context: { ...context, awsRequestId: 'req-2' } });
    logger.info('two');
    // Assess
    expect(entries()[0]).toMatchObject({
      function_name: 'enforce',
      function_request_id: 'req-1',
      cold_start: true,
    });
    expect(entries()[1]).toMatchObject({ function_request_id: 'req-2', cold_start: false });
  });
});
