// A tool is data: name, schemas, annotations and a handler. The MCP and HTTP adapters serve the same
// definitions; nothing here knows about either protocol.
import { z, type ZodRawShape } from "zod";
import { InvalidInputError } from "../errors.js";
import type { Runtime } from "../runtime.js";
import { recordToolCall } from "./audit-trail.js";

export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface ToolContext {
  runtime: Runtime;
  /** Who asks: "mcp:<client>", "http:<token name>", "cli". Recorded with every change. */
  actor: string;
  /** Reports progress of long tools (MCP progress notifications). */
  progress?: (done: number, total: number, message?: string) => void | Promise<void>;
  signal?: AbortSignal;
  /** Recorded with the call in the audit log as details.via (the CLI: OS user, host, kubeconfig context and user). */
  via?: Record<string, string>;
}

export interface ToolResult<T> {
  structured: T;
  /** A readable summary for assistants (MCP text content). */
  text: string;
}

export interface ToolDefinition<I extends ZodRawShape, O extends ZodRawShape> {
  name: string;
  title: string;
  description: string;
  inputSchema: I;
  outputSchema: O;
  annotations: ToolAnnotations;
  /** Changes the cluster: hidden in read-only mode. */
  writes?: boolean;
  handler: (args: z.infer<z.ZodObject<I>>, ctx: ToolContext) => Promise<ToolResult<z.infer<z.ZodObject<O>>>>;
}

/** A tool with its types erased, as the adapters hold them: run() validates its own arguments. */
export interface Tool {
  name: string;
  title: string;
  description: string;
  inputSchema: ZodRawShape;
  outputSchema: ZodRawShape;
  annotations: ToolAnnotations;
  writes: boolean;
  run(args: unknown, ctx: ToolContext): Promise<ToolResult<Record<string, unknown>>>;
}

export function defineTool<I extends ZodRawShape, O extends ZodRawShape>(definition: ToolDefinition<I, O>): Tool {
  const input = z.object(definition.inputSchema).strict();
  return {
    name: definition.name,
    title: definition.title,
    description: definition.description,
    inputSchema: definition.inputSchema,
    outputSchema: definition.outputSchema,
    annotations: { title: definition.title, ...definition.annotations },
    writes: definition.writes ?? false,
    async run(args, ctx) {
      const parsed = input.safeParse(args ?? {});
      if (!parsed.success) {
        throw new InvalidInputError(`invalid arguments for ${definition.name}`, {
          details: parsed.error.issues.map((issue) => ({
            where: issue.path.length > 0 ? issue.path.join(".") : "(arguments)",
            message: issue.code === "unrecognized_keys" ? `unknown argument(s): ${issue.keys.join(", ")}` : issue.message,
          })),
        });
      }
      // Every call that got past validation is audited (who, what, outcome), whether it succeeds or throws.
      const started = Date.now();
      try {
        const result = (await definition.handler(parsed.data, ctx)) as ToolResult<Record<string, unknown>>;
        recordToolCall(ctx, definition.name, parsed.data, { result: result.structured }, started);
        return result;
      } catch (error) {
        recordToolCall(ctx, definition.name, parsed.data, { error }, started);
        throw error;
      }
    },
  };
}
