// The error hierarchy shared by every door (CLI, HTTP, MCP): a stable code, an HTTP status,
// and a message that says what was wrong and where (file, rule id, field path, line).

export interface ErrorDetail {
  /** Where: a file path, a JSON path such as `/categories/security/enforcement`, a rule id. */
  where?: string;
  message: string;
}

export class AppError extends Error {
  static code = "internal_error";
  static status = 500;
  readonly details: ErrorDetail[];

  constructor(message: string, options: { details?: ErrorDetail[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.details = options.details ?? [];
  }

  get code(): string {
    return (this.constructor as typeof AppError).code;
  }

  get status(): number {
    return (this.constructor as typeof AppError).status;
  }

  toJSON(): { code: string; message: string; details?: ErrorDetail[] } {
    return this.details.length > 0
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }

  /** The message followed by one indented line per detail, for terminals and MCP text. */
  describe(): string {
    return [this.message, ...this.details.map((d) => `  - ${d.where ? `${d.where}: ` : ""}${d.message}`)].join("\n");
  }
}

export class InvalidInputError extends AppError {
  static override code = "invalid_input";
  static override status = 400;
}

export class ConfigError extends AppError {
  static override code = "invalid_config";
  static override status = 422;
}

export class ManifestError extends AppError {
  static override code = "invalid_manifest";
  static override status = 422;
}

export class PolicyCompileError extends AppError {
  static override code = "policy_compile_error";
  static override status = 422;
}

export class PolicyBundleError extends AppError {
  static override code = "policy_bundle_error";
  static override status = 500;
}

export class ToolchainError extends AppError {
  static override code = "toolchain_missing";
  static override status = 500;
}

export class NotFoundError extends AppError {
  static override code = "not_found";
  static override status = 404;
}

export class ForbiddenError extends AppError {
  static override code = "forbidden";
  static override status = 403;
}

export class UnavailableError extends AppError {
  static override code = "cluster_unavailable";
  static override status = 503;
}

/** Any thrown value as an AppError, keeping AppErrors as they are. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AppError(message, { cause: error });
}
