import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import * as checkDeployConfig from "./check-deploy-config.js";
import * as deployStatus from "./deploy-status.js";
import { registerDispatch } from "./dispatch.js";
import * as dryRunMigration from "./dry-run-migration.js";
import * as gateStatus from "./gate-status.js";
import * as listSlotLeases from "./list-slot-leases.js";
import * as releaseSlot from "./release-slot.js";
import * as reportCompleted from "./report-completed.js";
import * as reserveMigrationSlot from "./reserve-migration-slot.js";
import type { ToolDeps } from "./result.js";
import * as runPrePushSuite from "./run-pre-push-suite.js";
import * as suiteStatus from "./suite-status.js";
import * as verifyCompletion from "./verify-completion.js";

/** The tool registry: the only place that decides which tools the server offers. */
const TOOLS = [
  reserveMigrationSlot,
  releaseSlot,
  listSlotLeases,
  dryRunMigration,
  runPrePushSuite,
  suiteStatus,
  gateStatus,
  reportCompleted,
  verifyCompletion,
  deployStatus,
  checkDeployConfig,
];

export const TOOL_NAMES = TOOLS.map((t) => t.name);

export function registerTools(server: McpServer, deps: ToolDeps): void {
  registerDispatch(server, deps, (registrar) => {
    for (const tool of TOOLS) tool.register(registrar, deps);
  });
}
