import type * as ExecaModule from "execa";

let loading: Promise<typeof ExecaModule> | undefined;

/**
 * execa, loaded by the first child process a command starts rather than with every module that may
 * one day start one: the hook and the server start without it.
 */
export function loadExeca(): Promise<typeof ExecaModule> {
  loading ??= import("execa");
  return loading;
}
