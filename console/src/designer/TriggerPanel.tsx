/**
 * The flow's triggers (what starts it): a list (select, remove), a form for the selected
 * trigger's options generated from the trigger schema (GET /designer/schema `trigger`), the lint
 * problems of that trigger under it, and a form to add one. Every change becomes an edit
 * (`set_trigger_option`, `add_trigger`, `remove_trigger`); nothing is written until the flow is saved.
 */
import { useState } from "react";
import FormProblems from "./FormProblems";
import { triggerLabel } from "./layout";
import { inputFor, parseInput, showValue, type InputSpec } from "./schemaForm";
import type { Edit, JsonSchema, Problem, TriggerSpec } from "./types";

/** The options each trigger type uses, in the order the form shows them (pipelines/specs.py `Trigger`). */
export const TRIGGER_OPTIONS: Record<string, string[]> = {
  webhook: ["source", "event"],
  poll: ["source", "resource", "service", "every"],
  schedule: ["cron", "source"],
  bulk: ["source"],
};

const HELP: Record<string, string> = {
  event: "The event that starts the flow, e.g. order.created.",
  resource: "The shop resource a poll lists, e.g. orders.",
  service: "The AX document service a poll reads changes of, e.g. SalesOrderService.",
  every: "How often the poll runs: a number and a unit, e.g. 30s, 2m or 1h.",
  cron: "When a schedule runs, as a cron line, e.g. 0 * * * *.",
};

/** The problems of trigger `index` among the flow file's problems (paths `triggers[<index>]...`). */
export function triggerProblems(problems: Problem[], index: number): Problem[] {
  const own = `triggers[${index}]`;
  return problems.filter((p) => p.path === own || p.path.startsWith(`${own}.`));
}

/** The edits that turn `before` into the typed `values` (only the options that changed). */
export function triggerEdits(index: number, specs: InputSpec[], before: Record<string, string>, values: Record<string, string>): Edit[] {
  return specs
    .filter((s) => values[s.key] !== before[s.key])
    .map((s) => ({ op: "set_trigger_option" as const, trigger: index, key: s.key, value: parseInput(s, values[s.key] ?? "") }));
}

interface Props {
  triggers: TriggerSpec[];
  schema: JsonSchema | undefined;
  problems: Problem[];
  onEdit: (e: Edit) => void;
}

export default function TriggerPanel({ triggers, schema, problems, onEdit }: Props) {
  const [selected, setSelected] = useState<number | null>(null);
  const [newType, setNewType] = useState("poll");
  const current = selected !== null && selected < triggers.length ? selected : null;
  const types = schema ? inputFor("type", schema).options : Object.keys(TRIGGER_OPTIONS);
  return (
    <section className="card trigger-panel" aria-labelledby="triggers-title">
      <h2 id="triggers-title">Triggers</h2>
      <ol className="step-list" aria-labelledby="triggers-title">
        {triggers.map((t, i) => {
          const bad = triggerProblems(problems, i).some((p) => p.severity === "error");
          return (
            <li key={i} className={[i === current ? "current" : "", bad ? "has-error" : ""].join(" ").trim() || undefined}>
              <button type="button" className="link" aria-pressed={i === current} onClick={() => setSelected(i)}>
                <span className="step-kind">{t.type}</span> {triggerLabel(t).slice(t.type.length).trim()}
              </button>
              <span className="step-actions">
                <button type="button" className="secondary small" aria-label={`Remove trigger ${i + 1}`}
                  onClick={() => (onEdit({ op: "remove_trigger", trigger: i }), setSelected(null))}>
                  ✕
                </button>
              </span>
            </li>
          );
        })}
      </ol>
      {current !== null && schema && (
        <TriggerForm key={`${current}:${JSON.stringify(triggers[current])}`} index={current} trigger={triggers[current]} schema={schema}
          problems={triggerProblems(problems, current)} onEdit={onEdit} />
      )}
      <form className="row add-trigger" onSubmit={(e) => (e.preventDefault(), onEdit({ op: "add_trigger", trigger: { type: newType } }), setSelected(triggers.length))}>
        <div className="field">
          <label htmlFor="new-trigger-type">New trigger</label>
          <select id="new-trigger-type" value={newType} onChange={(e) => setNewType(e.target.value)}>
            {types.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </div>
        <button type="submit" className="secondary">
          Add trigger
        </button>
      </form>
    </section>
  );
}

function TriggerForm({ index, trigger, schema, problems, onEdit }: { index: number; trigger: TriggerSpec; schema: JsonSchema; problems: Problem[]; onEdit: (e: Edit) => void }) {
  const [type, setType] = useState(trigger.type);
  const keys = ["type", ...(TRIGGER_OPTIONS[type] ?? [])];
  // options set in the file but not shown for the type stay visible, so they can be removed
  for (const k of Object.keys(trigger)) if (!keys.includes(k)) keys.push(k);
  const specs = keys.map((k) => {
    const s = inputFor(k, schema);
    return { ...s, description: HELP[k] ?? s.description };
  });
  const before = Object.fromEntries(specs.map((s) => [s.key, showValue(s, trigger[s.key])]));
  const [values, setValues] = useState<Record<string, string>>(before);
  const [error, setError] = useState<string | null>(null);

  function apply(ev: React.FormEvent) {
    ev.preventDefault();
    try {
      triggerEdits(index, specs, before, { ...values, type }).forEach((e) => onEdit(e));
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  return (
    <form className="step-form" onSubmit={apply} aria-labelledby="trigger-form-title">
      <h3 id="trigger-form-title">Trigger {index + 1}</h3>
      {specs.map((s) => {
        const id = `trigger-opt-${s.key}`;
        const value = s.key === "type" ? type : values[s.key] ?? "";
        const set = (v: string) => (s.key === "type" ? setType(v) : setValues((o) => ({ ...o, [s.key]: v })));
        const common = { id, value, "aria-describedby": s.description ? `${id}-hint` : undefined };
        return (
          <div className="field" key={s.key}>
            <label htmlFor={id}>{s.key}</label>
            {s.kind === "select" ? (
              <select {...common} onChange={(e) => set(e.target.value)}>
                {s.key !== "type" && <option value="">(not set)</option>}
                {s.options.map((o) => (
                  <option key={o}>{o}</option>
                ))}
              </select>
            ) : (
              <input {...common} onChange={(e) => set(e.target.value)} />
            )}
            {s.description && (
              <span className="hint" id={`${id}-hint`}>
                {s.description}
              </span>
            )}
          </div>
        );
      })}
      <FormProblems problems={problems} label="Problems of this trigger" name={(path) => path.replace(/^triggers\[\d+\]\.?/, "") || "trigger"} />
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <button type="submit">Apply to trigger</button>
    </form>
  );
}
