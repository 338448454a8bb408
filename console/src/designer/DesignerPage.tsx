/**
 * The visual flow designer (`#/designer/<flow>`): the flow as a graph with its steps, the mapping
 * editor, a test-run panel, save and deploy.
 *
 * Changes are kept as a list of edits (./edits.ts) and shown at once in the graph and the mapping
 * editor; each change is checked by the bridge (POST …/check: lint problems with did-you-mean, and
 * the diff the save would make). Save sends the edits with the hashes of the files as loaded
 * (the bridge refuses if a file changed meanwhile) and writes only the edited lines; deploy shows
 * the diff between the deployed version and the files first.
 */
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError, errorText } from "../api";
import { ErrorBanner, PageHeader } from "../components/ui";
import { navigate, type Route } from "../router";
import "./designer.css";
import { addEdit, applyStepEdits, describeEdit, fieldsOf } from "./edits";
import FlowGraph from "./FlowGraph";
import MappingEditor from "./MappingEditor";
import { DeployButton, DiffView, TestRunPanel } from "./Panels";
import StepPanel from "./StepPanel";
import TriggerPanel from "./TriggerPanel";
import type { DesignerSchema, Edit, FileDiff, FlowDetail, Problem } from "./types";

const DEFAULT_FLOW = "ps_order_to_ax";

export default function DesignerPage({ route }: { route: Route }) {
  const name = route.parts[1] ?? DEFAULT_FLOW;
  const [flows, setFlows] = useState<string[]>([]);
  const [schema, setSchema] = useState<DesignerSchema | null>(null);
  const [detail, setDetail] = useState<FlowDetail | null>(null);
  const [edits, setEdits] = useState<Edit[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [mappingName, setMappingName] = useState<string>("");
  const [problems, setProblems] = useState<Problem[]>([]);
  const [diffs, setDiffs] = useState<FileDiff[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [saved, setSaved] = useState<FileDiff[]>([]);

  useEffect(() => {
    api<{ items: { name: string }[] }>("/flows").then((r) => setFlows(r.items.map((i) => i.name)), (e) => setError(errorText(e)));
    api<DesignerSchema>("/designer/schema").then(setSchema, (e) => setError(errorText(e)));
  }, []);

  const load = useCallback(async () => {
    try {
      const d = await api<FlowDetail>(`/designer/flows/${encodeURIComponent(name)}`);
      setDetail(d);
      setEdits([]);
      setError(null);
      setMappingName((m) => (m && m in d.mappings ? m : Object.keys(d.mappings).find((k) => d.flow.steps.some((s) => s.kind === "map" && s.output === "sales_order" && s.mapping === k)) ?? Object.keys(d.mappings)[0] ?? ""));
    } catch (e) {
      setError(errorText(e));
      setDetail(null);
    }
  }, [name]);

  useEffect(() => {
    setSaved([]);
    setNotice(null);
    void load();
  }, [load]);

  // every change is checked by the bridge: lint problems and the diff a save would make
  useEffect(() => {
    if (!detail) return;
    const ctrl = new AbortController();
    const t = window.setTimeout(() => {
      api<{ problems: Problem[]; diffs: FileDiff[] }>(`/designer/flows/${encodeURIComponent(name)}/check`, { body: { edits }, signal: ctrl.signal }).then(
        (r) => {
          setProblems(r.problems);
          setDiffs(r.diffs);
          setError(null);
        },
        (e) => {
          if (ctrl.signal.aborted) return;
          setError(errorText(e));
        },
      );
    }, 300);
    return () => (window.clearTimeout(t), ctrl.abort());
  }, [edits, detail, name]);

  const flow = useMemo(() => (detail ? applyStepEdits(detail.flow, edits) : null), [detail, edits]);

  const onEdit = useCallback(
    (e: Edit) => {
      setNotice(null);
      setEdits((list) =>
        addEdit(list, e, {
          hasRule: (r) => {
            const spec = r.op === "remove_rule" ? detail?.mappings[r.mapping]?.spec : undefined;
            return !!spec && r.op === "remove_rule" && r.field in fieldsOf(spec, r.child);
          },
        }),
      );
    },
    [detail],
  );

  function selectStep(id: string) {
    setSelected(id);
    const step = flow?.steps.find((s) => s.id === id);
    if (step?.kind === "map" && typeof step.mapping === "string" && detail && step.mapping in detail.mappings) setMappingName(step.mapping);
  }

  async function save() {
    if (!detail) return;
    try {
      const base = Object.fromEntries(detail.files.map((f) => [f.file, f.hash]));
      const r = await api<{ saved: string[]; diffs: FileDiff[]; version_id: string }>(`/designer/flows/${encodeURIComponent(name)}/save`, { body: { edits, base } });
      setSaved(r.diffs);
      setNotice(`Saved ${r.saved.join(", ")}: the flow is now version ${r.version_id} on disk (not deployed yet).`);
      await load();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setError(`${e.detail} Your changes are kept below; reload to start from the new files.`);
      else setError(errorText(e));
    }
  }

  const flowFile = detail?.flow_file ?? "";
  const errors = problems.filter((p) => p.severity === "error");
  const mapping = detail && mappingName ? detail.mappings[mappingName] : null;

  return (
    <section aria-label="Flow designer" className="designer">
      <PageHeader title="Designer">
        <div className="field">
          <label htmlFor="flow-choice">Flow</label>
          <select id="flow-choice" value={name} onChange={(e) => navigate(["designer", e.target.value])}>
            {(flows.length ? flows : [name]).map((f) => (
              <option key={f}>{f}</option>
            ))}
          </select>
        </div>
      </PageHeader>
      <ErrorBanner error={error} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {detail && flow && (
        <>
          <p className="hint">
            {detail.flow.description} <span className="muted">Entity {detail.entity}; files version <code>{detail.version_id}</code>; deployed <code>{detail.deployed_version ?? "none"}</code>.</span>
          </p>
          <div className="changes card" aria-labelledby="changes-title">
            <div className="row">
              <h2 id="changes-title">{edits.length ? `${edits.length} unsaved change(s)` : "No unsaved changes"}</h2>
              <span className="spacer" />
              <button type="button" onClick={save} disabled={!edits.length || errors.length > 0} title={errors.length ? "Fix the problems first" : undefined}>
                Save to files
              </button>
              <button type="button" className="secondary" onClick={() => setEdits([])} disabled={!edits.length}>
                Discard changes
              </button>
              <DeployButton flow={name} disabled={edits.length > 0} onDeployed={(m) => (setNotice(m), void load())} />
            </div>
            {edits.length > 0 && (
              <ul className="edit-list">
                {edits.map((e, i) => (
                  <li key={i}>{describeEdit(e)}</li>
                ))}
              </ul>
            )}
            {errors.length > 0 && (
              <p role="alert" className="error">
                {errors.length} problem(s) to fix before saving; the first: {errors[0].file} line {errors[0].line}: {errors[0].message}
              </p>
            )}
            {edits.length > 0 && diffs.length > 0 && (
              <details>
                <summary>What the save will change in the files</summary>
                {diffs.map((d) => (
                  <DiffView key={d.file} file={d.file} diff={d.diff} />
                ))}
              </details>
            )}
            {saved.length > 0 && edits.length === 0 && (
              <details open>
                <summary>Last save</summary>
                {saved.map((d) => (
                  <DiffView key={d.file} file={d.file} diff={d.diff} />
                ))}
              </details>
            )}
          </div>
          <div className="designer-top">
            <FlowGraph flow={flow} selected={selected} onSelect={selectStep} />
            <div className="designer-side">
              <TriggerPanel triggers={flow.triggers} schema={schema?.trigger} problems={problems.filter((p) => p.file === flowFile)} onEdit={onEdit} />
              <StepPanel flow={flow} schema={schema} mappings={Object.keys(detail.mappings)} selected={selected} onSelect={selectStep} onEdit={onEdit} />
            </div>
          </div>
          <div className="field mapping-choice">
            <label htmlFor="mapping-choice">Mapping to edit</label>
            <select id="mapping-choice" value={mappingName} onChange={(e) => setMappingName(e.target.value)}>
              {Object.entries(detail.mappings).map(([m, info]) => (
                <option key={m} value={m}>
                  {m} ({info.file})
                </option>
              ))}
            </select>
          </div>
          {mapping && (
            <MappingEditor
              key={mappingName}
              name={mappingName}
              mapping={mapping}
              edits={edits}
              problems={problems.filter((p) => p.file === mapping.file)}
              sample={detail.sample}
              onEdit={onEdit}
            />
          )}
          <ProblemsOfFlow problems={problems.filter((p) => p.file === flowFile)} />
          <TestRunPanel key={name} flow={name} edits={edits} sample={detail.sample} />
        </>
      )}
    </section>
  );
}

function ProblemsOfFlow({ problems }: { problems: Problem[] }) {
  if (!problems.length) return null;
  return (
    <section className="card" aria-labelledby="flow-problems-title">
      <h2 id="flow-problems-title">Problems of the flow file</h2>
      <ul className="problems">
        {problems.map((p, i) => (
          <li key={i} className={p.severity}>
            line {p.line}, {p.path}: {p.message}
          </li>
        ))}
      </ul>
    </section>
  );
}
