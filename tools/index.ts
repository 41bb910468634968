import * as checkDeployConfig from "./check-deploy-config.js";
import * as deployStatus from "./deploy-status.js";
import type { ToolRegistrar } from "./dispatch.js";
import * as dryRunMigration from "./dry-run-migration.js";
import * as gateStatus from "./gate-status.js";
import * as listSlotLeases from "./list-slot-leases.js";
import * as releaseSlot from "./release-slot.js";
import * as reportCompleted from "./report-completed.js";
import * as reserveMigrationSlot from "./reserve-migration-slot.js";
import type { ToolDeps } from "./result.js";
import * as reviewWorkers from "./review-workers.js";
import * as revokeWorkerLeases from "./revoke-worker-leases.js";
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
  reviewWorkers,
  revokeWorkerLeases,
  deployStatus,
  checkDeployConfig,
];

export const TOOL_NAMES = TOOLS.map((t) => t.name);

/**
 * Which roles may call each tool, said at the end of its description so a client sees it before
 * calling (the service refuses the others with a clear error).
 */
export const TOOL_ROLES: Record<string, string> = {
  reserve_migration_slot: "worker only",
  release_slot: "worker (own leases), head (any lease); not tester",
  list_slot_leases: "any (worker, head, tester)",
  dry_run_migration: "worker only",
  run_pre_push_suite: "worker, tester; not head",
  suite_status: "any (worker, head, tester)",
  gate_status: "any (worker: its own branches; head and tester: any branch)",
  report_completed: "worker only",
  verify_completion: "head only",
  review_workers: "head only",
  revoke_worker_leases: "head only",
  deploy_status: "any (worker, head, tester)",
  check_deploy_config: "any (worker, head, tester)",
};

/** Registers every tool with `registrar` (src/server.ts loads this module at the first tool request). */
export function registerAll(registrar: ToolRegistrar, deps: ToolDeps): void {
  for (const tool of TOOLS) tool.register(withRoleLine(registrar, TOOL_ROLES[tool.name]), deps);
}

/** The registrar as a tool's register function sees it: its description gains the "Roles:" line. */
function withRoleLine(registrar: ToolRegistrar, roles: string | undefined): ToolRegistrar {
  if (!roles) return registrar;
  return {
    registerTool(name, config, callback) {
      registrar.registerTool(
        name,
        { ...config, description: `${config.description ?? ""}\n\nRoles: ${roles}.` },
        callback,
      );
    },
  };
}
