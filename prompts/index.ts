import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import * as completionChecklist from "./completion-checklist.js";
import * as deployIncident from "./deploy-incident.js";
import * as leaseReview from "./lease-review.js";
import * as migrationWorkflow from "./migration-workflow.js";
import * as smokeShift from "./smoke-shift.js";

/** The prompt registry: the only place that decides which prompts the server offers. */
const PROMPTS = [migrationWorkflow, completionChecklist, leaseReview, deployIncident, smokeShift];

export const PROMPT_NAMES = PROMPTS.map((p) => p.name);

export function registerPrompts(server: McpServer): void {
  for (const prompt of PROMPTS) prompt.register(server);
}
