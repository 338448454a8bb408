/**
 * Mapping rules between the YAML form (pipelines/specs.py `FieldRule`) and the editor's form.
 *
 * A rule has one value source — `from` (a source path), `expr`, `const` or `cases` (conditions
 * with `else`) — then optional `default`, `lookup` (a table of the mapping), `convert` and
 * `required`. `ruleFromForm` writes the short form (`Field: source.path`) when only `from` is set,
 * as the shipped mappings do; `formFromRule` reads any rule the files hold; options the form does
 * not show (`currency`, `join`, `owner`, ...) are carried over untouched in `extra`.
 */
import type { FieldInfo, RuleSpec } from "./types";

export type ValueKind = "from" | "expr" | "const" | "cases";

export interface RuleForm {
  kind: ValueKind;
  from: string;
  expr: string;
  const: string;
  cases: { if: string; then: string }[];
  else: string;
  default: string;
  lookup: string;
  convert: string;
  required: boolean;
  mask: string;
  /** Options of the rule the form does not edit, kept as they are. */
  extra: Record<string, unknown>;
}

export const EMPTY_FORM: RuleForm = {
  kind: "from", from: "", expr: "", const: "", cases: [], else: "", default: "", lookup: "", convert: "",
  required: false, mask: "", extra: {},
};

const SHOWN = new Set(["from", "expr", "const", "cases", "else", "default", "lookup", "convert", "required", "mask"]);

function text(v: unknown): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function formFromRule(rule: RuleSpec | undefined): RuleForm {
  if (rule === undefined) return { ...EMPTY_FORM, cases: [], extra: {} };
  if (typeof rule === "string") return { ...EMPTY_FORM, from: rule, cases: [], extra: {} };
  const r = rule as Record<string, unknown>;
  const kind: ValueKind = "cases" in r ? "cases" : "expr" in r ? "expr" : "const" in r ? "const" : "from";
  const convert = r.convert;
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!SHOWN.has(k)) extra[k] = v;
  // a convert with options (places, formats) is kept whole unless the form changes its type
  if (convert && typeof convert === "object" && Object.keys(convert).length > 1) extra.convert = convert;
  return {
    kind,
    from: Array.isArray(r.from) ? (r.from as string[]).join(", ") : text(r.from),
    expr: text(r.expr),
    const: text(r.const),
    cases: Array.isArray(r.cases)
      ? (r.cases as Record<string, unknown>[]).map((c) => ({ if: text(c.if), then: text(c.then ?? c.expr) }))
      : [],
    else: text(r.else),
    default: text(r.default),
    lookup: text(r.lookup),
    convert: convert && typeof convert === "object" ? text((convert as Record<string, unknown>).to) : text(convert),
    required: r.required === true,
    mask: text(r.mask),
    extra,
  };
}

/** The rule to send in a `set_rule` edit; throws an Error saying what is missing. */
export function ruleFromForm(form: RuleForm): RuleSpec {
  const out: Record<string, unknown> = {};
  if (form.kind === "from") {
    const paths = form.from.split(",").map((p) => p.trim()).filter(Boolean);
    if (paths.length) out.from = paths.length === 1 ? paths[0] : paths;
  } else if (form.kind === "expr") {
    if (form.expr.trim()) out.expr = form.expr.trim();
  } else if (form.kind === "const") {
    out.const = form.const;
  } else {
    const cases = form.cases.filter((c) => c.if.trim()).map((c) => ({ if: c.if.trim(), then: c.then }));
    if (!cases.length) throw new Error("A condition needs at least one 'if' with its value.");
    out.cases = cases;
    if (form.else !== "") out.else = form.else;
  }
  if (form.default !== "") out.default = form.default;
  if (Object.keys(out).length === 0) throw new Error("Give the field a value: a source field, an expression, a constant or a default.");
  if (form.lookup) out.lookup = form.lookup;
  const keptConvert = form.extra.convert as Record<string, unknown> | undefined;
  if (form.convert) out.convert = keptConvert && keptConvert.to === form.convert ? keptConvert : form.convert;
  if (form.mask) out.mask = form.mask;
  if (form.required) out.required = true;
  for (const [k, v] of Object.entries(form.extra)) if (k !== "convert") out[k] = v;
  const keys = Object.keys(out);
  if (keys.length === 1 && keys[0] === "from" && typeof out.from === "string") return out.from;
  return out;
}

/** The source fields a rule reads: its `from` paths, and known field names in its expressions. */
export function sourcesOf(rule: RuleSpec, known: string[]): string[] {
  if (typeof rule === "string") return [rule];
  const r = rule as Record<string, unknown>;
  const found = new Set<string>();
  if (typeof r.from === "string") found.add(r.from);
  if (Array.isArray(r.from)) for (const p of r.from) if (typeof p === "string") found.add(p);
  const texts = [r.expr, ...(Array.isArray(r.cases) ? (r.cases as Record<string, unknown>[]).flatMap((c) => [c.if, c.expr]) : [])];
  const names = new Set(known);
  for (const t of texts) {
    if (typeof t !== "string") continue;
    for (const m of t.matchAll(/[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/g)) if (names.has(m[0])) found.add(m[0]);
  }
  return [...found];
}

/** A short text of a rule for the list of rules (`customer.email → lookup currency`). */
export function ruleSummary(rule: RuleSpec): string {
  const f = formFromRule(rule);
  const head =
    f.kind === "from" ? f.from || "(default only)" : f.kind === "expr" ? `= ${f.expr}` : f.kind === "const" ? `"${f.const}"` : `${f.cases.length} condition(s), else ${f.else || "—"}`;
  const tail = [f.default && `default ${f.default}`, f.lookup && `lookup ${f.lookup}`, f.convert && `as ${f.convert}`]
    .filter(Boolean)
    .join(", ");
  return tail ? `${head} (${tail})` : head;
}

/** Target fields not mapped yet, required ones first (what the editor offers to add). */
export function unmappedTargets(targets: FieldInfo[], mapped: Record<string, RuleSpec>): FieldInfo[] {
  return targets
    .filter((t) => !(t.name in mapped) && !t.read_only && !t.name.startsWith("_"))
    .sort((a, b) => Number(b.required) - Number(a.required) || a.name.localeCompare(b.name));
}
