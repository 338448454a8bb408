/**
 * The designer's pending changes (steps, triggers, rules, lookup tables) as a list of structured edits (pipelines/yaml_edit.py), and the
 * flow and mapping as they look with those edits applied (what the screen shows before saving).
 *
 * Contract: the server applies the list in order to the YAML files, so `addEdit` keeps the list
 * short and meaningful — a second change of the same rule or option replaces the first, and
 * removing a rule that was only added in this session drops the addition (nothing to write).
 * The functions are pure: they return new arrays/objects and never change their arguments.
 */
import type { Edit, FlowSpec, MappingSpec, RuleSpec, StepSpec, TriggerSpec } from "./types";

function sameTarget(a: Edit, b: Edit): boolean {
  if (a.op === "set_step_option" && b.op === "set_step_option") return a.step === b.step && a.key === b.key;
  if ((a.op === "set_rule" || a.op === "remove_rule") && (b.op === "set_rule" || b.op === "remove_rule"))
    return a.mapping === b.mapping && a.field === b.field && (a.child ?? "") === (b.child ?? "");
  if (a.op === "set_lookup" && b.op === "set_lookup") return a.mapping === b.mapping && a.table === b.table;
  if (a.op === "set_trigger_option" && b.op === "set_trigger_option") return a.trigger === b.trigger && a.key === b.key;
  return false;
}

/** Whether the triggers' positions changed after edit `i` (then a trigger edit before it is not merged). */
function triggersMovedAfter(edits: Edit[], i: number): boolean {
  return edits.slice(i + 1).some((e) => e.op === "add_trigger" || e.op === "remove_trigger");
}

/**
 * `edits` followed by `edit`, merged: the latest change of one rule/option/table wins; a
 * `remove_rule` of a rule added in this session (not in `original`) cancels the addition;
 * removing a step added in this session drops its addition and the edits of that step.
 */
export function addEdit(edits: Edit[], edit: Edit, original?: { hasRule?: (e: Edit) => boolean }): Edit[] {
  if (edit.op === "remove_step") {
    const added = edits.find((e) => e.op === "add_step" && e.step.id === edit.step);
    if (added) return edits.filter((e) => !("step" in e) || (e.op === "add_step" ? e.step.id : e.step) !== edit.step);
  }
  const earlier = edits.findIndex((e) => sameTarget(e, edit));
  if (earlier < 0 || (edit.op === "set_trigger_option" && triggersMovedAfter(edits, earlier))) return [...edits, edit];
  if (edit.op === "remove_rule" && edits[earlier].op === "set_rule" && original?.hasRule && !original.hasRule(edit))
    return edits.filter((_, i) => i !== earlier);
  return [...edits.slice(0, earlier), ...edits.slice(earlier + 1), edit];
}

/** The steps and triggers with their edits applied, in order (unknown ids and positions are ignored). */
export function applyStepEdits(flow: FlowSpec, edits: Edit[]): FlowSpec {
  let steps: StepSpec[] = flow.steps.map((s) => ({ ...s }));
  let triggers: TriggerSpec[] = flow.triggers.map((t) => ({ ...t }));
  for (const e of edits) {
    if (e.op === "add_trigger") {
      triggers = [...triggers, Object.fromEntries(Object.entries(e.trigger).filter(([, v]) => v !== null && v !== undefined)) as TriggerSpec];
    } else if (e.op === "remove_trigger") {
      triggers = triggers.filter((_, i) => i !== e.trigger);
    } else if (e.op === "set_trigger_option") {
      triggers = triggers.map((t, i) => {
        if (i !== e.trigger) return t;
        const next: TriggerSpec = { ...t };
        if (e.value === null || e.value === undefined) delete next[e.key];
        else next[e.key] = e.value;
        return next;
      });
    } else if (e.op === "add_step") {
      const at = e.after === undefined ? steps.length : steps.findIndex((s) => s.id === e.after) + 1;
      steps = [...steps.slice(0, at), { ...e.step }, ...steps.slice(at)];
    } else if (e.op === "remove_step") {
      steps = steps.filter((s) => s.id !== e.step);
    } else if (e.op === "move_step") {
      const i = steps.findIndex((s) => s.id === e.step);
      if (i < 0) continue;
      const rest = steps.filter((_, j) => j !== i);
      steps = [...rest.slice(0, e.to), steps[i], ...rest.slice(e.to)];
    } else if (e.op === "set_step_option") {
      steps = steps.map((s) => {
        if (s.id !== e.step) return s;
        const next: StepSpec = { ...s };
        if (e.value === null || e.value === undefined) delete next[e.key];
        else next[e.key] = e.value;
        return next;
      });
    }
  }
  return { ...flow, steps, triggers };
}

/** The fields (of the mapping or of the child named by `child`, dotted) with the rule edits applied. */
export function applyRuleEdits(spec: MappingSpec, edits: Edit[], child?: string): Record<string, RuleSpec> {
  let fields: Record<string, RuleSpec> = { ...fieldsOf(spec, child) };
  for (const e of edits) {
    if ((e.op !== "set_rule" && e.op !== "remove_rule") || e.mapping !== spec.mapping || (e.child ?? "") !== (child ?? ""))
      continue;
    if (e.op === "set_rule") fields = { ...fields, [e.field]: e.rule };
    else {
      const { [e.field]: _gone, ...rest } = fields;
      void _gone;
      fields = rest;
    }
  }
  return fields;
}

/** The rules of a mapping or of one of its child mappings (`SalesLine`, nested ones dotted). */
export function fieldsOf(spec: MappingSpec, child?: string): Record<string, RuleSpec> {
  if (!child) return spec.fields;
  let node: { fields: Record<string, RuleSpec>; children?: MappingSpec["children"] } = spec;
  for (const part of child.split(".")) {
    const next = node.children?.[part];
    if (!next) return {};
    node = next;
  }
  return node.fields;
}

/** The step ids a new step may not take, and a free id from `base` (`guard`, `guard-2`, ...). */
export function freeStepId(steps: StepSpec[], base: string): string {
  const ids = new Set(steps.map((s) => s.id));
  const clean = base.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[^a-z]+/, "").replace(/-+$/, "") || "step";
  if (!ids.has(clean)) return clean;
  for (let n = 2; ; n++) if (!ids.has(`${clean}-${n}`)) return `${clean}-${n}`;
}

/** A one-line description of an edit, for the list of pending changes. */
export function describeEdit(e: Edit): string {
  switch (e.op) {
    case "add_step":
      return `Add step ${e.step.id} (${e.step.kind})${e.after ? ` after ${e.after}` : ""}`;
    case "remove_step":
      return `Remove step ${e.step}`;
    case "move_step":
      return `Move step ${e.step} to position ${e.to + 1}`;
    case "set_step_option":
      return e.value === null ? `Step ${e.step}: remove ${e.key}` : `Step ${e.step}: set ${e.key}`;
    case "set_rule":
      return `Mapping ${e.mapping}: set ${e.child ? `${e.child}.` : ""}${e.field}`;
    case "remove_rule":
      return `Mapping ${e.mapping}: remove ${e.child ? `${e.child}.` : ""}${e.field}`;
    case "set_lookup":
      return `Mapping ${e.mapping}: ${e.lookup === null ? "remove" : "set"} lookup table ${e.table}`;
    case "add_trigger":
      return `Add a ${e.trigger.type} trigger`;
    case "remove_trigger":
      return `Remove trigger ${e.trigger + 1}`;
    case "set_trigger_option":
      return e.value === null ? `Trigger ${e.trigger + 1}: remove ${e.key}` : `Trigger ${e.trigger + 1}: set ${e.key}`;
  }
}
