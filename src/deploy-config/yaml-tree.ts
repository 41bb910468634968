/**
 * YAML to a plain tree that keeps the line of every key and value, with aliases and `<<` merge
 * keys resolved (explicit keys win over merged ones, earlier merge sources over later ones).
 */
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
} from "yaml";
import { DeployConfigError } from "./errors.js";

export type YNode =
  | { kind: "map"; line: number; entries: Map<string, YEntry> }
  | { kind: "seq"; line: number; items: YNode[] }
  | { kind: "scalar"; line: number; value: unknown };

export interface YEntry {
  keyLine: number;
  value: YNode;
}

/** Parse `text`; throws DeployConfigError (with the line) when it is not YAML. */
export function parseYamlTree(text: string, file: string): YNode | null {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : "";
    const said = (first.message.split("\n")[0] ?? first.code).replace(/ at line \d+, column \d+:?$/, "");
    throw new DeployConfigError(
      `${file} is not valid YAML${where}: ${said}`,
      "Fix the YAML syntax (indentation, quotes, brackets) so the file parses, then check it again.",
      pos?.line ?? null,
    );
  }
  if (doc.contents === null) return null;
  return new TreeBuilder(doc, lines).build(doc.contents, 1);
}

class TreeBuilder {
  private readonly active = new Set<Node>();

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  lineOf(node: unknown, fallback: number): number {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? this.lines.linePos(range[0]).line : fallback;
  }

  build(node: unknown, fallbackLine: number): YNode {
    const line = this.lineOf(node, fallbackLine);
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target || this.active.has(target)) return { kind: "scalar", line, value: null };
      this.active.add(target);
      try {
        return this.build(target, line);
      } finally {
        this.active.delete(target);
      }
    }
    if (isMap(node)) return { kind: "map", line, entries: this.entries(node.items, line) };
    if (isSeq(node)) return { kind: "seq", line, items: node.items.map((item) => this.build(item, line)) };
    if (isScalar(node)) return { kind: "scalar", line, value: node.value };
    return { kind: "scalar", line, value: null };
  }

  private entries(items: unknown[], line: number): Map<string, YEntry> {
    const own = new Map<string, YEntry>();
    const merged: Map<string, YEntry>[] = [];
    for (const pair of items) {
      if (!isPair(pair)) continue;
      const keyLine = this.lineOf(pair.key, line);
      if (isScalar(pair.key) && (pair.key.source === "<<" || typeof pair.key.value === "symbol")) {
        merged.push(...this.mergeSources(pair.value, keyLine));
        continue;
      }
      const key = isScalar(pair.key) ? String(pair.key.value) : null;
      if (key === null) continue;
      own.set(key, { keyLine, value: this.build(pair.value, keyLine) });
    }
    for (const source of merged) for (const [key, entry] of source) if (!own.has(key)) own.set(key, entry);
    return own;
  }

  private mergeSources(value: unknown, line: number): Map<string, YEntry>[] {
    const node = this.build(value, line);
    const sources = node.kind === "seq" ? node.items : [node];
    return sources.flatMap((s) => (s.kind === "map" ? [s.entries] : []));
  }
}

/** The entry under `key` of a map node, or undefined. */
export function entry(node: YNode | undefined, key: string): YEntry | undefined {
  return node?.kind === "map" ? node.entries.get(key) : undefined;
}

/** A scalar as text (numbers and booleans too); undefined for collections and null. */
export function scalarText(node: YNode | undefined): string | undefined {
  if (node?.kind !== "scalar" || node.value === null || node.value === undefined) return undefined;
  return typeof node.value === "string" ? node.value : String(node.value);
}
