/**
 * Form fields generated from a JSON schema (the pydantic `Step` schema served at
 * /api/v1/designer/schema): which input each option gets and how its text becomes a value.
 *
 * `inputFor` reads one property (following `$ref` into `$defs` and `anyOf` with null) and says
 * whether it is a choice (`select` with the enum), a line of text, a list of names (one line,
 * comma-separated) or structured data (JSON in a text area). `parseInput` turns what the user
 * typed back into the option's value (`null` removes the option) and throws an Error with a
 * sentence when the text does not fit.
 */
import type { JsonSchema } from "./types";

export type InputKind = "select" | "text" | "list" | "json" | "bool";

export interface InputSpec {
  key: string;
  kind: InputKind;
  options: string[];
  description: string;
}

/** The options each step kind uses, in the order the form shows them (pipelines/specs.py `Step`). */
export const KIND_OPTIONS: Record<string, string[]> = {
  extract: ["system", "operation", "include", "when"],
  map: ["mapping", "input", "output", "when"],
  validate: ["inputs", "rules", "when"],
  guard: ["rules", "anomaly", "when"],
  load: ["system", "operation", "mode", "input", "when"],
  "write-back": ["system", "operation", "input", "when"],
};

const HELP: Record<string, string> = {
  when: "An expression; the step is skipped when it does not hold.",
  include: "Records the extract step nests into the record.",
  input: "The output of an earlier step (default: the record).",
  inputs: "Outputs of map steps to check against their targets.",
  rules: "A list of {if, action, reason} (guard) or {check, message} (validate), as JSON.",
  anomaly: "The anomaly check of a guard: {kind, thresholds, ...}, as JSON.",
};

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (schema.$ref) {
    const name = schema.$ref.split("/").pop() ?? "";
    return resolve(root.$defs?.[name] ?? {}, root);
  }
  if (schema.anyOf) {
    const real = schema.anyOf.filter((s) => s.type !== "null");
    if (real.length === 1) return { ...resolve(real[0], root), description: schema.description ?? real[0].description };
  }
  return schema;
}

export function inputFor(key: string, root: JsonSchema): InputSpec {
  const prop = resolve(root.properties?.[key] ?? {}, root);
  const description = HELP[key] ?? prop.description ?? "";
  if (prop.enum) return { key, kind: "select", options: prop.enum.map(String), description };
  if (prop.type === "boolean") return { key, kind: "bool", options: [], description };
  if (prop.type === "array") {
    const items = resolve(prop.items ?? {}, root);
    if (items.type === "string") return { key, kind: "list", options: [], description };
    return { key, kind: "json", options: [], description };
  }
  if (prop.type === "object" || prop.properties) return { key, kind: "json", options: [], description };
  return { key, kind: "text", options: [], description };
}

/** The text an input shows for a value. */
export function showValue(spec: InputSpec, value: unknown): string {
  if (value === undefined || value === null) return "";
  if (spec.kind === "list" && Array.isArray(value)) return value.join(", ");
  if (spec.kind === "json") return JSON.stringify(value, null, 1);
  return String(value);
}

/** The value of what was typed (`null`: remove the option). */
export function parseInput(spec: InputSpec, text: string): unknown {
  const t = text.trim();
  if (t === "") return null;
  if (spec.kind === "list") return t.split(",").map((s) => s.trim()).filter(Boolean);
  if (spec.kind === "bool") return t === "true";
  if (spec.kind === "json") {
    try {
      return JSON.parse(t);
    } catch {
      throw new Error(`'${spec.key}' is not valid JSON.`);
    }
  }
  if (spec.kind === "select" && spec.options.length && !spec.options.includes(t))
    throw new Error(`'${spec.key}' must be one of ${spec.options.join(", ")}.`);
  return t;
}
