/**
 * Pure layout of the designer's pictures, so it can be unit-tested without a browser:
 * - `flowGraph`: the flow as nodes and edges for React Flow — the triggers side by side on top,
 *   the steps in one column below in their order, an edge from every trigger to the first step
 *   and from each step to the next;
 * - `mappingLinks`: the lines of the mapping editor, from a source field's row to a target
 *   field's row, for every rule that reads a listed source field.
 */
import { sourcesOf } from "./rules";
import type { FlowSpec, RuleSpec, StepSpec, TriggerSpec } from "./types";

export const NODE_W = 220;
export const STEP_GAP = 66;
export const TRIGGER_GAP = 240;

export interface GraphNode {
  id: string;
  position: { x: number; y: number };
  data: { label: string; kind: string; detail: string };
  type?: string;
  selected?: boolean;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
}

export function triggerLabel(t: TriggerSpec): string {
  const what = t.event ?? t.resource ?? t.service ?? t.cron ?? "";
  const every = t.every ? ` every ${t.every}` : "";
  return `${t.type}${t.source ? ` ${t.source}` : ""}${what ? `: ${what}` : ""}${every}`;
}

export function stepDetail(s: StepSpec): string {
  const parts = [
    s.system && s.operation ? `${s.system} ${s.operation}` : "",
    s.mapping ? `mapping ${s.mapping}` : "",
    s.output ? `→ ${s.output}` : "",
    s.when ? `when ${s.when}` : "",
  ];
  return parts.filter(Boolean).join(" · ");
}

export function flowGraph(flow: FlowSpec, selected?: string | null): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nTriggers = flow.triggers.length;
  const width = Math.max(nTriggers, 1) * TRIGGER_GAP;
  const column = width / 2 - NODE_W / 2;
  const nodes: GraphNode[] = flow.triggers.map((t, i) => ({
    id: `trigger-${i}`,
    position: { x: i * TRIGGER_GAP + (TRIGGER_GAP - NODE_W) / 2, y: 0 },
    data: { label: triggerLabel(t), kind: "trigger", detail: "" },
    type: "input",
  }));
  flow.steps.forEach((s, i) =>
    nodes.push({
      id: `step-${s.id}`,
      position: { x: column, y: 110 + i * STEP_GAP },
      data: { label: s.id, kind: s.kind, detail: stepDetail(s) },
      selected: s.id === selected,
      type: i === flow.steps.length - 1 ? "output" : "default",
    }),
  );
  const edges: GraphEdge[] = [];
  if (flow.steps.length) {
    const first = `step-${flow.steps[0].id}`;
    flow.triggers.forEach((_, i) => edges.push({ id: `e-trigger-${i}`, source: `trigger-${i}`, target: first }));
  }
  for (let i = 1; i < flow.steps.length; i++) {
    const a = flow.steps[i - 1].id;
    const b = flow.steps[i].id;
    edges.push({ id: `e-${a}-${b}`, source: `step-${a}`, target: `step-${b}` });
  }
  return { nodes, edges };
}

export interface Link {
  source: string;
  target: string;
  sourceRow: number;
  targetRow: number;
}

/**
 * One link per (source field, target field) a rule connects, between the rows where each is
 * listed (`sources`, `targets` in display order). A rule whose sources are not listed (filtered
 * out, or an expression of constants) draws no line.
 */
export function mappingLinks(sources: string[], targets: string[], rules: Record<string, RuleSpec>): Link[] {
  const row = new Map(sources.map((s, i) => [s, i]));
  const links: Link[] = [];
  targets.forEach((t, targetRow) => {
    const rule = rules[t];
    if (rule === undefined) return;
    for (const s of sourcesOf(rule, sources)) {
      const sourceRow = row.get(s);
      if (sourceRow !== undefined) links.push({ source: s, target: t, sourceRow, targetRow });
    }
  });
  return links;
}

/** The SVG path of a link: a smooth curve from the right edge of the source row to the left edge of the target row. */
export function linkPath(link: Link, width: number, rowHeight: number, top = 0): string {
  const y1 = top + link.sourceRow * rowHeight + rowHeight / 2;
  const y2 = top + link.targetRow * rowHeight + rowHeight / 2;
  const mid = width / 2;
  return `M 0 ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${width} ${y2}`;
}
