/**
 * The steps as an ordered list (select, move up/down, remove), a form for the selected step's
 * options generated from the step schema, and a form to add a step after the selected one.
 * Every change becomes an edit (`onEdit`); nothing is written until the flow is saved.
 */
import { useEffect, useState } from "react";
import { freeStepId } from "./edits";
import { stepDetail } from "./layout";
import { inputFor, KIND_OPTIONS, parseInput, showValue } from "./schemaForm";
import type { DesignerSchema, Edit, FlowSpec, StepSpec } from "./types";

interface Props {
  flow: FlowSpec;
  schema: DesignerSchema | null;
  mappings: string[];
  selected: string | null;
  onSelect: (id: string) => void;
  onEdit: (e: Edit) => void;
}

export default function StepPanel({ flow, schema, mappings, selected, onSelect, onEdit }: Props) {
  const steps = flow.steps;
  const step = steps.find((s) => s.id === selected) ?? null;
  return (
    <div className="step-panel">
      <h2 id="steps-title">Steps</h2>
      <ol className="step-list" aria-labelledby="steps-title">
        {steps.map((s, i) => (
          <li key={s.id} className={s.id === selected ? "current" : undefined}>
            <button type="button" className="link" aria-pressed={s.id === selected} onClick={() => onSelect(s.id)}>
              <span className="step-kind">{s.kind}</span> {s.id}
            </button>
            <span className="step-actions">
              <button type="button" className="secondary small" aria-label={`Move ${s.id} up`} disabled={i === 0}
                onClick={() => onEdit({ op: "move_step", step: s.id, to: i - 1 })}>
                ↑
              </button>
              <button type="button" className="secondary small" aria-label={`Move ${s.id} down`} disabled={i === steps.length - 1}
                onClick={() => onEdit({ op: "move_step", step: s.id, to: i + 1 })}>
                ↓
              </button>
              <button type="button" className="secondary small" aria-label={`Remove step ${s.id}`}
                onClick={() => onEdit({ op: "remove_step", step: s.id })}>
                ✕
              </button>
            </span>
          </li>
        ))}
      </ol>
      {step && schema && <StepForm key={step.id + JSON.stringify(step)} step={step} schema={schema} mappings={mappings} onEdit={onEdit} />}
      {schema && <AddStep flow={flow} kinds={schema.step_kinds} after={selected} onEdit={onEdit} onSelect={onSelect} />}
    </div>
  );
}

function StepForm({ step, schema, mappings, onEdit }: { step: StepSpec; schema: DesignerSchema; mappings: string[]; onEdit: (e: Edit) => void }) {
  const keys = KIND_OPTIONS[step.kind] ?? ["when"];
  const specs = keys.map((k) => inputFor(k, schema.step));
  const initial = () => Object.fromEntries(specs.map((s) => [s.key, showValue(s, step[s.key])]));
  const [values, setValues] = useState<Record<string, string>>(initial);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setError(null), [step.id]);

  function apply(ev: React.FormEvent) {
    ev.preventDefault();
    try {
      const before = initial();
      const changes: Edit[] = [];
      for (const s of specs) {
        if (values[s.key] === before[s.key]) continue;
        changes.push({ op: "set_step_option", step: step.id, key: s.key, value: parseInput(s, values[s.key]) });
      }
      changes.forEach(onEdit);
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  return (
    <form className="card step-form" onSubmit={apply} aria-labelledby="step-form-title">
      <h3 id="step-form-title">
        Step <code>{step.id}</code> ({step.kind})
      </h3>
      <p className="hint">{stepDetail(step) || "No options set."}</p>
      {specs.map((s) => {
        const id = `opt-${s.key}`;
        const hint = s.description ? <span className="hint" id={`${id}-hint`}>{s.description}</span> : null;
        const common = { id, value: values[s.key], "aria-describedby": s.description ? `${id}-hint` : undefined };
        const set = (v: string) => setValues((o) => ({ ...o, [s.key]: v }));
        return (
          <div className="field" key={s.key}>
            <label htmlFor={id}>{s.key}</label>
            {s.kind === "select" ? (
              <select {...common} onChange={(e) => set(e.target.value)}>
                <option value="">(not set)</option>
                {s.options.map((o) => (
                  <option key={o}>{o}</option>
                ))}
              </select>
            ) : s.kind === "json" ? (
              <textarea {...common} rows={4} onChange={(e) => set(e.target.value)} />
            ) : s.key === "mapping" ? (
              <>
                <input {...common} list="mapping-names" onChange={(e) => set(e.target.value)} />
                <datalist id="mapping-names">
                  {mappings.map((m) => (
                    <option key={m} value={m} />
                  ))}
                </datalist>
              </>
            ) : (
              <input {...common} onChange={(e) => set(e.target.value)} />
            )}
            {hint}
          </div>
        );
      })}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <button type="submit">Apply to step</button>
    </form>
  );
}

function AddStep({ flow, kinds, after, onEdit, onSelect }: { flow: FlowSpec; kinds: string[]; after: string | null; onEdit: (e: Edit) => void; onSelect: (id: string) => void }) {
  const [kind, setKind] = useState("guard");
  const [id, setId] = useState("");
  const [error, setError] = useState<string | null>(null);
  function add(ev: React.FormEvent) {
    ev.preventDefault();
    const stepId = freeStepId(flow.steps, id || kind);
    const step: StepSpec = { id: stepId, kind };
    // a new step must be valid on its own: give it the minimum its kind needs
    if (kind === "guard") step.rules = [{ if: "false", action: "hold", reason: "Describe why a record is held." }];
    if (kind === "validate") step.inputs = flow.steps.filter((s) => s.kind === "map" && s.output).map((s) => String(s.output)).slice(0, 1);
    if (kind === "map") Object.assign(step, { mapping: "", output: stepId.replace(/-/g, "_") });
    if (["extract", "load", "write-back"].includes(kind)) Object.assign(step, { system: "prestashop", operation: "" });
    if (kind === "validate" && !(step.inputs as string[]).length) {
      setError("A validate step checks the output of a map step; add a map step first.");
      return;
    }
    onEdit({ op: "add_step", step, after: after ?? undefined });
    onSelect(stepId);
    setId("");
    setError(null);
  }
  return (
    <form className="card add-step" onSubmit={add} aria-labelledby="add-step-title">
      <h3 id="add-step-title">Add a step{after ? ` after ${after}` : " at the end"}</h3>
      <div className="row">
        <div className="field">
          <label htmlFor="new-step-kind">Kind</label>
          <select id="new-step-kind" value={kind} onChange={(e) => setKind(e.target.value)}>
            {kinds.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="new-step-id">Id</label>
          <input id="new-step-id" value={id} placeholder={kind} onChange={(e) => setId(e.target.value)} />
        </div>
        <button type="submit">Add step</button>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
