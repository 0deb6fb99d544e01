/** An AWS error as the awsJson1_1 protocol returns it: HTTP status plus `{"__type": name, "message": ...}`. */
export class ApiError extends Error {
  readonly status: number;

  constructor(name: string, message: string, status = 400) {
    super(message);
    this.name = name;
    this.status = status;
  }
}

export const fail = (name: string, message: string, status = 400): never => {
  throw new ApiError(name, message, status);
};
