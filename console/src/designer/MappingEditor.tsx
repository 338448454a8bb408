/**
 * The mapping editor: source fields on the left, the mapped target fields on the right, a line
 * drawn for every rule from the source fields it reads to its target; below, a form to add or
 * change a rule (source, expression, constant or conditions; default, lookup, conversion) with
 * the target's field table, inline suggestions (POST /mappings/suggest) and the lint problems of
 * each rule with their did-you-mean as a one-click fix.
 *
 * Keyboard: every field is a button — a source fills the form's source, a target opens its rule.
 */
import { useEffect, useMemo, useState } from "react";
import { api, errorText } from "../api";
import { applyRuleEdits } from "./edits";
import { linkPath, mappingLinks } from "./layout";
import { EMPTY_FORM, formFromRule, ruleFromForm, ruleSummary, sourcesOf, unmappedTargets, type RuleForm } from "./rules";
import LookupEditor, { lookupsWithEdits } from "./LookupEditor";
import type { Edit, FieldInfo, MappingInfo, Problem, RuleSpec } from "./types";

const ROW = 30;
const CONVERSIONS = ["", "str", "int", "decimal", "date", "datetime", "noyes", "from_noyes", "bool01"];

interface Props {
  name: string;
  mapping: MappingInfo;
  edits: Edit[];
  problems: Problem[];
  sample: Record<string, unknown> | null;
  onEdit: (e: Edit) => void;
}

/** Fields under `prefix.` with the prefix taken off (a child mapping's own fields). */
function under(fields: FieldInfo[], prefix: string): FieldInfo[] {
  if (!prefix) return fields;
  return fields.filter((f) => f.name.startsWith(prefix + ".")).map((f) => ({ ...f, name: f.name.slice(prefix.length + 1) }));
}

function valueAt(record: unknown, path: string): unknown {
  let node: unknown = record;
  for (const part of path.split(".")) {
    if (Array.isArray(node)) node = node[0];
    if (node && typeof node === "object") {
      const o = node as Record<string, unknown>;
      node = part in o ? o[part] : (o.associations as Record<string, unknown> | undefined)?.[part];
    } else return undefined;
  }
  return Array.isArray(node) || (node && typeof node === "object") ? undefined : node;
}

export default function MappingEditor({ name, mapping, edits, problems, sample, onEdit }: Props) {
  const spec = mapping.spec;
  const childNames = Object.keys(spec.children ?? {});
  const [child, setChild] = useState("");
  const [filter, setFilter] = useState("");
  const [target, setTarget] = useState("");
  const [form, setForm] = useState<RuleForm>({ ...EMPTY_FORM });
  const [formError, setFormError] = useState<string | null>(null);
  const [suggestions, setSuggestions] = useState<{ source: string; confidence: number; reason: string }[] | null>(null);

  const eachPath = child ? String(spec.children?.[child]?.each ?? "") : "";
  const sources = useMemo(() => under(mapping.fields.source, eachPath), [mapping, eachPath]);
  const targets = useMemo(() => {
    const all = under(mapping.fields.target, child);
    return child ? all : all.filter((f) => !childNames.some((c) => f.name.startsWith(c + ".")));
  }, [mapping, child, childNames]);
  const rules = useMemo(() => applyRuleEdits(spec, edits, child || undefined), [spec, edits, child]);
  const record = (sample?.record ?? sample) as Record<string, unknown> | null;
  const fieldPrefix = child ? `children.${child}.fields.` : "fields.";

  // the source column: fields the rules read (in the order of their targets), then filter matches
  const targetNames = Object.keys(rules);
  const sourceNames = sources.map((s) => s.name);
  const used = targetNames.flatMap((t) => sourcesOf(rules[t], sourceNames));
  const shownSources = [...new Set(used)];
  const f = filter.trim().toLowerCase();
  if (f) for (const s of sourceNames) if (s.toLowerCase().includes(f) && shownSources.length < 60) shownSources.push(s);
  const links = mappingLinks([...new Set(shownSources)], targetNames, rules);
  const rows = Math.max(targetNames.length, new Set(shownSources).size, 1);

  useEffect(() => {
    setTarget("");
    setForm({ ...EMPTY_FORM });
    setSuggestions(null);
  }, [name, child]);

  function open(field: string) {
    setTarget(field);
    setForm(formFromRule(rules[field]));
    setFormError(null);
    setSuggestions(null);
  }

  function save(ev: React.FormEvent) {
    ev.preventDefault();
    if (!target.trim()) return setFormError("Choose the target field the rule fills.");
    try {
      onEdit({ op: "set_rule", mapping: name, field: target.trim(), rule: ruleFromForm(form), child: child || undefined });
      setFormError(null);
    } catch (e) {
      setFormError(errorText(e));
    }
  }

  async function suggest() {
    if (!target.trim()) return setFormError("Choose a target field first.");
    const source = {
      system: spec.source.system,
      entity: spec.source.resource ?? spec.source.entity ?? "source",
      fields: sources.slice(0, 2000).map((s) => {
        const v = record ? valueAt(record, eachPath ? `${eachPath}.${s.name}` : s.name) : undefined;
        return { name: s.name, type: s.type, samples: v === undefined || v === null || v === "" ? [] : [v] };
      }),
    };
    const tgt = targets.find((t) => t.name === target.trim());
    const targetSchema = { system: spec.target.system, entity: spec.target.entity ?? spec.target.resource ?? "target", fields: [{ name: target.trim(), type: tgt?.type ?? "string", samples: [] }] };
    try {
      const r = await api<{ suggestions: { target: string; candidates: { source: string; confidence: number; reason: string }[] }[] }>(
        "/mappings/suggest",
        { body: { source, target: targetSchema, top: 3 } },
      );
      setSuggestions(r.suggestions[0]?.candidates ?? []);
      setFormError(null);
    } catch (e) {
      setFormError(errorText(e));
    }
  }

  function fix(p: Problem, field: string) {
    if (!p.suggestion) return;
    const rule = rules[field];
    if (p.path === `${fieldPrefix}${field}`) {
      // an unknown target field: rename the rule
      onEdit({ op: "remove_rule", mapping: name, field, child: child || undefined });
      onEdit({ op: "set_rule", mapping: name, field: p.suggestion, rule, child: child || undefined });
      if (field === target) setTarget(p.suggestion);
    } else if (p.path === `${fieldPrefix}${field}.from`) {
      const fixed = formFromRule(rule);
      fixed.from = fixed.from.split(",").map((s) => (p.message.includes(`'${s.trim()}'`) ? p.suggestion ?? s : s.trim())).join(", ");
      onEdit({ op: "set_rule", mapping: name, field, rule: ruleFromForm(fixed), child: child || undefined });
      if (field === target) setForm(fixed); // the open form shows the fixed rule
    }
  }

  const tgtOptions = unmappedTargets(targets, rules);
  const lookups = Object.keys(lookupsWithEdits(spec, edits, name));
  const problemsOf = (field: string) =>
    problems.filter((p) => p.path === `${fieldPrefix}${field}` || p.path.startsWith(`${fieldPrefix}${field}.`));
  const set = <K extends keyof RuleForm>(k: K, v: RuleForm[K]) => setForm((o) => ({ ...o, [k]: v }));

  return (
    <section className="card mapping-editor" aria-labelledby="mapping-title">
      <div className="row">
        <h2 id="mapping-title">
          Mapping <code>{name}</code>
        </h2>
        <span className="spacer" />
        {childNames.length > 0 && (
          <div className="field">
            <label htmlFor="mapping-level">Level</label>
            <select id="mapping-level" value={child} onChange={(e) => setChild(e.target.value)}>
              <option value="">Header ({spec.target.entity ?? spec.target.resource})</option>
              {childNames.map((c) => (
                <option key={c} value={c}>
                  {c} (each {String(spec.children?.[c]?.each)})
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      <p className="hint">
        {spec.source.system} {spec.source.resource ?? `${spec.source.service}.${spec.source.entity}`}
        {child ? `, each ${eachPath},` : ""} → {spec.target.system} {spec.target.resource ?? `${spec.target.service}.${spec.target.entity}`}
        {child ? `, each a ${child}` : ""}. Choose a source field, then a target, or open a mapped target to change its rule.
      </p>
      <div className="field">
        <label htmlFor="source-filter">Find source fields</label>
        <input id="source-filter" value={filter} placeholder="e.g. phone" onChange={(e) => setFilter(e.target.value)} />
      </div>
      <div className="mapping-columns" style={{ ["--row" as string]: `${ROW}px` }}>
        <ul className="field-col sources" aria-label="Source fields">
          {[...new Set(shownSources)].map((s) => (
            <li key={s}>
              <button type="button" className={`field-btn${form.from === s ? " chosen" : ""}`} title={sources.find((x) => x.name === s)?.type}
                onClick={() => (set("kind", "from"), set("from", s))}>
                {s}
              </button>
            </li>
          ))}
        </ul>
        <svg className="links" height={rows * ROW} aria-hidden="true" preserveAspectRatio="none" viewBox={`0 0 100 ${rows * ROW}`}>
          {links.map((l) => (
            <path key={`${l.source}>${l.target}`} d={linkPath(l, 100, ROW)} className={l.target === target ? "active" : undefined} />
          ))}
        </svg>
        <ul className="field-col targets" aria-label="Mapped target fields">
          {targetNames.map((t) => {
            const ps = problemsOf(t);
            return (
              <li key={t} className={ps.some((p) => p.severity === "error") ? "has-error" : undefined}>
                <button type="button" className={`field-btn${t === target ? " chosen" : ""}`} onClick={() => open(t)} aria-describedby={ps.length ? `problem-${t}` : undefined}>
                  <strong>{t}</strong> <span className="muted">{ruleSummary(rules[t] as RuleSpec)}</span>
                </button>
              </li>
            );
          })}
        </ul>
      </div>
      <ProblemList problems={problems.filter((p) => p.path.startsWith(fieldPrefix))} fieldPrefix={fieldPrefix} onFix={fix} />

      <form className="rule-form" onSubmit={save} aria-labelledby="rule-form-title">
        <h3 id="rule-form-title">{target && target in rules ? `Rule of ${target}` : "Add a rule"}</h3>
        <div className="row">
          <div className="field wide">
            <label htmlFor="rule-target">Target field</label>
            <input id="rule-target" list="target-fields" value={target} onChange={(e) => setTarget(e.target.value)} aria-describedby="rule-target-hint" />
            <datalist id="target-fields">
              {tgtOptions.map((t) => (
                <option key={t.name} value={t.name}>{`${t.type}${t.required ? ", required" : ""}${t.max_length ? `, max ${t.max_length}` : ""}`}</option>
              ))}
            </datalist>
            <span className="hint" id="rule-target-hint">
              {(() => {
                const t = targets.find((x) => x.name === target);
                return t ? `${t.type}${t.required ? ", required" : ""}${t.max_length ? `, at most ${t.max_length} characters` : ""}${t.enum ? `: ${t.enum.join(", ")}` : ""}` : `${tgtOptions.length} unmapped fields in the target's table`;
              })()}
            </span>
          </div>
          <div className="field">
            <label htmlFor="rule-kind">Value from</label>
            <select id="rule-kind" value={form.kind} onChange={(e) => set("kind", e.target.value as RuleForm["kind"])}>
              <option value="from">a source field</option>
              <option value="expr">an expression</option>
              <option value="const">a constant</option>
              <option value="cases">conditions</option>
            </select>
          </div>
        </div>
        {form.kind === "from" && (
          <div className="field wide">
            <label htmlFor="rule-from">Source field</label>
            <input id="rule-from" list="source-fields" value={form.from} onChange={(e) => set("from", e.target.value)} />
            <datalist id="source-fields">
              {sources.slice(0, 800).map((s) => (
                <option key={s.name} value={s.name}>{s.type}</option>
              ))}
            </datalist>
          </div>
        )}
        {form.kind === "expr" && (
          <div className="field wide">
            <label htmlFor="rule-expr">Expression</label>
            <input id="rule-expr" value={form.expr} placeholder="concat(params.customer_prefix, id_customer)" onChange={(e) => set("expr", e.target.value)} />
          </div>
        )}
        {form.kind === "const" && (
          <div className="field">
            <label htmlFor="rule-const">Constant</label>
            <input id="rule-const" value={form.const} onChange={(e) => set("const", e.target.value)} />
          </div>
        )}
        {form.kind === "cases" && (
          <fieldset className="cases">
            <legend>Conditions (the first that holds gives the value)</legend>
            {form.cases.map((c, i) => (
              <div className="row" key={i}>
                <div className="field wide">
                  <label htmlFor={`case-if-${i}`}>If</label>
                  <input id={`case-if-${i}`} value={c.if} onChange={(e) => set("cases", form.cases.map((x, j) => (j === i ? { ...x, if: e.target.value } : x)))} />
                </div>
                <div className="field">
                  <label htmlFor={`case-then-${i}`}>Then</label>
                  <input id={`case-then-${i}`} value={c.then} onChange={(e) => set("cases", form.cases.map((x, j) => (j === i ? { ...x, then: e.target.value } : x)))} />
                </div>
                <button type="button" className="secondary" aria-label={`Remove condition ${i + 1}`} onClick={() => set("cases", form.cases.filter((_, j) => j !== i))}>
                  Remove
                </button>
              </div>
            ))}
            <div className="row">
              <button type="button" className="secondary" onClick={() => set("cases", [...form.cases, { if: "", then: "" }])}>
                Add condition
              </button>
              <div className="field">
                <label htmlFor="case-else">Else</label>
                <input id="case-else" value={form.else} onChange={(e) => set("else", e.target.value)} />
              </div>
            </div>
          </fieldset>
        )}
        <div className="row">
          <div className="field">
            <label htmlFor="rule-default">Default (when missing)</label>
            <input id="rule-default" value={form.default} onChange={(e) => set("default", e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="rule-lookup">Lookup table</label>
            <select id="rule-lookup" value={form.lookup} onChange={(e) => set("lookup", e.target.value)}>
              <option value="">(none)</option>
              {lookups.map((l) => (
                <option key={l}>{l}</option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="rule-convert">Convert to</label>
            <select id="rule-convert" value={form.convert} onChange={(e) => set("convert", e.target.value)}>
              {CONVERSIONS.map((c) => (
                <option key={c} value={c}>
                  {c || "(as is)"}
                </option>
              ))}
            </select>
          </div>
          <label className="check">
            <input type="checkbox" checked={form.required} onChange={(e) => set("required", e.target.checked)} /> required
          </label>
        </div>
        {formError && (
          <p role="alert" className="error">
            {formError}
          </p>
        )}
        {suggestions && (
          <div className="suggestions" role="status" aria-label="Suggested source fields">
            {suggestions.length === 0 ? (
              <span className="muted">No suggestion for {target}.</span>
            ) : (
              suggestions.map((s) => (
                <button key={s.source} type="button" className="secondary" title={s.reason} onClick={() => (set("kind", "from"), set("from", s.source))}>
                  Use {s.source} ({Math.round(s.confidence * 100)}%)
                </button>
              ))
            )}
          </div>
        )}
        <div className="row">
          <button type="submit">{target && target in rules ? "Update rule" : "Add rule"}</button>
          <button type="button" className="secondary" onClick={suggest}>
            Suggest a source
          </button>
          {target && target in rules && (
            <button type="button" className="danger" onClick={() => (onEdit({ op: "remove_rule", mapping: name, field: target, child: child || undefined }), setTarget(""), setForm({ ...EMPTY_FORM }))}>
              Remove rule
            </button>
          )}
        </div>
      </form>
      <LookupEditor name={name} spec={spec} edits={edits} problems={problems} onEdit={onEdit} />
    </section>
  );
}

function ProblemList({ problems, fieldPrefix, onFix }: { problems: Problem[]; fieldPrefix: string; onFix: (p: Problem, field: string) => void }) {
  if (!problems.length) return null;
  return (
    <ul className="problems" aria-label="Problems of this mapping">
      {problems.map((p, i) => {
        const field = p.path.slice(fieldPrefix.length).replace(/\.(from|expr|lookup|default|convert|cases.*)$/, "");
        return (
          <li key={i} id={`problem-${field}`} className={p.severity} role={p.severity === "error" ? "alert" : undefined}>
            <strong>{field}</strong>: {p.message}{" "}
            {p.suggestion && (
              <button type="button" className="secondary small" onClick={() => onFix(p, field)}>
                Use ‘{p.suggestion}’
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}
