import type { McpServer, ToolCallback } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Protocol, type RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  type ListToolsResult,
  McpError,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { type ZodRawShape, z } from "zod";
import type { Logger } from "../src/log.js";

/** What a tool file hands over when it registers: the config `McpServer.registerTool` takes. */
interface ToolConfig<I extends ZodRawShape = ZodRawShape> {
  title?: string;
  description?: string;
  inputSchema?: I;
  outputSchema?: ZodRawShape;
  annotations?: Tool["annotations"];
}

/** What a tool file is handed: it registers itself, with `McpServer.registerTool`'s arguments. */
export interface ToolRegistrar {
  registerTool<I extends ZodRawShape>(name: string, config: ToolConfig<I>, callback: ToolCallback<I>): void;
}

interface Entry {
  config: ToolConfig;
  input: z.ZodObject;
  output: z.ZodObject | null;
  // biome-ignore lint/suspicious/noExplicitAny: each tool's callback takes its own argument type.
  callback: ToolCallback<any>;
}

/** tools/call as it may arrive: `arguments` is checked here, so a null is a clear answer, not a protocol error. */
const CallRequest = z.object({
  method: z.literal("tools/call"),
  params: z.looseObject({ name: z.string(), arguments: z.unknown().optional() }),
});

/** The listing is the same for every server this process builds (HTTP builds one per request). */
const listings = new Map<string, ListToolsResult>();

/**
 * Answers tools/list and tools/call from mai-gate's own table of tools, which `load` builds on the
 * first of them (so `initialize` is answered before any tool module loads): the listing is
 * converted to JSON Schema once per process, arguments are checked against a strict object (an
 * unknown field is named, not silently dropped), and a wrong argument answers `[bad_input]` naming
 * the field rather than a validation dump.
 */
export function registerDispatch(
  server: McpServer,
  { logger, onFirstCall }: { logger: Logger; onFirstCall?: (() => Promise<void>) | undefined },
  load: () => Promise<(registrar: ToolRegistrar) => void>,
): void {
  let first: Promise<void> | undefined;
  let loading: Promise<Map<string, Entry>> | undefined;
  const tools = () => {
    loading ??= load().then((register) => {
      const table = new Map<string, Entry>();
      register({
        registerTool(name, config, callback) {
          table.set(name, {
            config,
            input: z.strictObject(config.inputSchema ?? {}),
            output: config.outputSchema ? z.object(config.outputSchema) : null,
            callback,
          });
        },
      });
      return table;
    });
    loading.catch(() => {
      loading = undefined;
    });
    return loading;
  };
  server.server.registerCapabilities({ tools: {} });
  // The table loads as soon as the client has initialized: ready by its first tools/list.
  server.server.oninitialized = () => void tools().catch(() => undefined);
  server.server.setRequestHandler(ListToolsRequestSchema, async () => {
    const table = await tools();
    const key = [...table.keys()].join(",");
    let listing = listings.get(key);
    if (!listing) {
      listing = { tools: [...table].map(([name, entry]) => describeTool(name, entry)) };
      listings.set(key, listing);
    }
    return listing;
  });
  // The SDK's Server checks tools/call against MCP's schema before any handler and answers a
  // JSON-RPC error with a schema dump for `arguments: null`; the protocol layer's own registration
  // lets this handler answer it as a tool error naming the field. Each answer is a CallToolResult.
  const onCall = async (
    request: z.infer<typeof CallRequest>,
    extra: RequestHandlerExtra<ServerRequest, ServerNotification>,
  ): Promise<CallToolResult> => {
    first ??= onFirstCall?.() ?? Promise.resolve();
    await first;
    const { name, arguments: given } = request.params;
    const entry = (await tools()).get(name);
    if (!entry) throw new McpError(ErrorCode.InvalidParams, `Tool ${name} not found`);
    const args = given === undefined ? {} : given;
    const parsed = entry.input.safeParse(args);
    if (!parsed.success) return badInput(name, args, parsed.error);
    const result = (await entry.callback(parsed.data, extra)) as CallToolResult;
    return checkOutput(name, entry, result, logger);
  };
  const setOnProtocol = Protocol.prototype.setRequestHandler as (
    this: unknown,
    schema: typeof CallRequest,
    handler: typeof onCall,
  ) => void;
  setOnProtocol.call(server.server, CallRequest, onCall);
}

function describeTool(name: string, entry: Entry): Tool {
  const { title, description, annotations } = entry.config;
  return {
    name,
    ...(title === undefined ? {} : { title }),
    ...(description === undefined ? {} : { description }),
    inputSchema: z.toJSONSchema(entry.input, { target: "draft-7", io: "input" }) as Tool["inputSchema"],
    ...(entry.output
      ? {
          outputSchema: z.toJSONSchema(entry.output, {
            target: "draft-7",
            io: "output",
          }) as Tool["outputSchema"],
        }
      : {}),
    ...(annotations === undefined ? {} : { annotations }),
  };
}

/** `[bad_input]` with each wrong field named, and what to do. */
function badInput(tool: string, args: unknown, error: z.ZodError): CallToolResult {
  const problems =
    args === null || typeof args !== "object" || Array.isArray(args)
      ? [`arguments: expected an object of named fields (or none at all), got ${describeValue(args)}`]
      : error.issues.map(describeIssue);
  return {
    isError: true,
    content: [
      {
        type: "text",
        text: `[bad_input] ${tool}: ${problems.join("; ")}\nNext step: Call ${tool} again with the fields its input schema lists (tools/list shows them).`,
      },
    ],
  };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    const [one, ...more] = issue.keys;
    return more.length === 0
      ? `unknown field "${one}"`
      : `unknown fields ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  }
  const field = issue.path.length === 0 ? "arguments" : issue.path.join(".");
  return `${field}: ${issue.message}`;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/** What the SDK checks too: a tool with an output schema answers structured content that fits it. */
function checkOutput(tool: string, entry: Entry, result: CallToolResult, logger: Logger): CallToolResult {
  if (!entry.output || result.isError) return result;
  const checked = result.structuredContent ? entry.output.safeParse(result.structuredContent) : null;
  if (checked?.success) return result;
  logger.error(
    { tool, issues: checked?.error.issues ?? "no structured content" },
    "tool output does not fit its schema",
  );
  return {
    isError: true,
    content: [
      {
        type: "text",
        text: `[internal] ${tool} produced an answer that does not fit its output schema.\nNext step: Report this to whoever maintains mai-gate; the server's log (stderr) has the details.`,
      },
    ],
  };
}
