/**
 * CloudTrail "AWS API Call via CloudTrail" events for CreateLogGroup, as EventBridge delivers them
 * (same shape as test/events/*.json), with best-effort delivery: delay, duplicates and loss.
 */
import { randomUUID } from 'node:crypto';
import type { Random } from './random.ts';

export interface EventOptions {
  delayMs?: number;
  duplicateRate?: number;
  lossRate?: number;
}

export interface CallRecord {
  region: string;
  account: string;
  at: number;
  requestId: string;
  accessKeyId: string;
  userAgent: string;
  sourceIp: string;
  requestParameters: Record<string, unknown>;
  error?: { code: string; message: string };
}

/** CloudTrail times have second precision: `2026-11-22T08:03:11Z`. */
const trailTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

export function createLogGroupEvent(call: CallRecord): Record<string, unknown> {
  const time = trailTime(call.at);
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.logs',
    account: call.account,
    time,
    region: call.region,
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: {
        type: 'IAMUser',
        principalId: 'AIDAEMULATORUSER0001',
        arn: `arn:aws:iam::${call.account}:user/local-emulator`,
        accountId: call.account,
        accessKeyId: call.accessKeyId,
        userName: 'local-emulator',
      },
      eventTime: time,
      eventSource: 'logs.amazonaws.com',
      eventName: 'CreateLogGroup',
      awsRegion: call.region,
      ...(call.error ? { errorCode: call.error.code, errorMessage: call.error.message } : {}),
      sourceIPAddress: call.sourceIp,
      userAgent: call.userAgent,
      requestParameters: call.requestParameters,
      responseElements: null,
      requestID: call.requestId,
      eventID: randomUUID(),
      readOnly: false,
      eventType: 'AwsApiCall',
      apiVersion: '20140328',
      managementEvent: true,
      recipientAccountId: call.account,
      eventCategory: 'Management',
    },
  };
}

/** Delivers events to listeners after a delay; loses or duplicates some (seeded). */
export class EventBus {
  private readonly listeners = new Set<(event: unknown) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly delayMs: number;
  private readonly duplicateRate: number;
  private readonly lossRate: number;
  private readonly random: Random;
  private readonly log: (line: string) => void;

  constructor(options: EventOptions, timeScale: number, random: Random, log: (line: string) => void) {
    this.delayMs = (options.delayMs ?? 0) / timeScale;
    this.duplicateRate = options.duplicateRate ?? 0;
    this.lossRate = options.lossRate ?? 0;
    this.random = random;
    this.log = log;
  }

  subscribe(listener: (event: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  publish(event: Record<string, unknown>): void {
    // Draw both numbers every time so that one rate does not shift the other's sequence.
    const lost = this.random() < this.lossRate;
    const duplicated = this.random() < this.duplicateRate;
    if (lost) return;
    this.schedule(event, this.delayMs);
    // A duplicate is the same event (same id) delivered again a little later, as EventBridge does.
    if (duplicated) this.schedule(event, this.delayMs + 1 + this.random() * Math.max(10, this.delayMs));
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.listeners.clear();
  }

  private schedule(event: Record<string, unknown>, delay: number) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      for (const listener of [...this.listeners]) {
        try {
          listener(structuredClone(event));
        } catch (err) {
          this.log(`event listener failed: ${String(err)}`);
        }
      }
    }, delay);
    this.timers.add(timer);
  }
}
