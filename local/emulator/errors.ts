/**
 * The one error kind of the emulator: every operation, gate and hook throws an ApiError (an AWS exception name, its
 * message and HTTP status), and each protocol (protocols.ts, organizations.ts, sts.ts) spells it on the wire.
 */
/** An AWS error as the awsJson1_1 protocol returns it: HTTP status plus `{"__type": name, "message": ...}`. */
export class ApiError extends Error {
  readonly status: number;

  constructor(name: string, message: string, status = 400) {
    super(message);
    this.name = name;
    this.status = status;
  }
}

/** Throws the ApiError (for expressions: `map.get(k) ?? fail(...)`). */
export const fail = (name: string, message: string, status = 400): never => {
  throw new ApiError(name, message, status);
};
