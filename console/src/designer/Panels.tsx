/**
 * The designer's lower panels: the test-run of the flow as edited on a sample record (each
 * step's status and output), a unified diff view, and the deploy dialog that shows the diff
 * between the deployed version and the files before anything is deployed.
 */
import { useState } from "react";
import { api, errorText } from "../api";
import { Badge, Confirm } from "../components/ui";
import type { Edit, TestResult } from "./types";

export function DiffView({ file, diff }: { file: string; diff: string }) {
  return (
    <figure className="diff">
      <figcaption>{file}</figcaption>
      <pre tabIndex={0} aria-label={`Changes of ${file}`}>
        {diff.split("\n").map((line, i) => (
          <span key={i} className={line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : line.startsWith("@@") ? "hunk" : undefined}>
            {line + "\n"}
          </span>
        ))}
      </pre>
    </figure>
  );
}

export function TestRunPanel({ flow, edits, sample }: { flow: string; edits: Edit[]; sample: Record<string, unknown> | null }) {
  const [text, setText] = useState(() => JSON.stringify(sample ?? {}, null, 1));
  const [result, setResult] = useState<TestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function run() {
    setBusy(true);
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new Error("The sample is not valid JSON.");
      }
      setResult(await api<TestResult>(`/designer/flows/${encodeURIComponent(flow)}/test`, { body: { edits, sample: parsed } }));
      setError(null);
    } catch (e) {
      setError(errorText(e));
      setResult(null);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card test-run" aria-labelledby="test-title">
      <h2 id="test-title">Test-run</h2>
      <p className="hint">Runs the map, validate and guard steps of the flow as edited (unsaved changes included) on the sample; no system is called. Personal data is masked in the output.</p>
      <details>
        <summary>Sample record</summary>
        <label htmlFor="test-sample">Sample (JSON: the record, or {"{record, context, message}"})</label>
        <textarea id="test-sample" rows={10} value={text} onChange={(e) => setText(e.target.value)} />
      </details>
      <button type="button" onClick={run} disabled={busy}>
        {busy ? "Running…" : "Run test"}
      </button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {result && (
        <div className="test-result" aria-live="polite">
          <p>
            Outcome: <Badge status={result.ok ? "done" : result.outcome} /> <span className="muted">version {result.version_id}</span>
          </p>
          <ol className="test-steps">
            {result.steps.map((s) => (
              <li key={s.id}>
                <details open={s.kind === "map" && s.status === "ok"}>
                  <summary>
                    <code>{s.id}</code> ({s.kind}) <Badge status={s.status === "ok" ? "done" : s.status === "skipped" ? "discarded" : s.status} />{" "}
                    <span className="muted">{s.reason ?? s.error?.message ?? s.verdict?.reason ?? ""}</span>
                  </summary>
                  {s.output !== undefined && <pre className="output" tabIndex={0} aria-label={`Output of ${s.id}`}>{JSON.stringify(s.output, null, 1)}</pre>}
                </details>
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}

interface Preview {
  version_id: string;
  deployed_version: string | null;
  changed: boolean;
  diff: string;
  problems: { message: string }[];
}

export function DeployButton({ flow, disabled, onDeployed }: { flow: string; disabled: boolean; onDeployed: (msg: string) => void }) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const path = `/designer/flows/${encodeURIComponent(flow)}`;

  async function open() {
    try {
      setPreview(await api<Preview>(`${path}/deploy-preview`));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }

  async function deploy() {
    if (!preview) return;
    try {
      const r = await api<{ status: string; version_id: string }>(`${path}/deploy`, { body: { version_id: preview.version_id } });
      onDeployed(`Flow ${flow}: version ${r.version_id} ${r.status}; the running bridge picks it up within a second.`);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
    setPreview(null);
  }

  return (
    <>
      <button type="button" onClick={open} disabled={disabled} title={disabled ? "Save your changes first" : undefined}>
        Deploy…
      </button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <Confirm open={preview !== null} title={`Deploy ${flow}?`} confirmLabel={preview?.changed ? "Deploy this version" : "Deploy again"} onConfirm={deploy} onCancel={() => setPreview(null)}>
        {preview && (
          <div className="deploy-preview">
            <p>
              Deployed now: <code>{preview.deployed_version ?? "nothing"}</code>; the files hold <code>{preview.version_id}</code>.
            </p>
            {preview.problems.length > 0 && (
              <p role="alert" className="error">
                The flow has {preview.problems.length} problem(s) and will not deploy: {preview.problems[0].message}
              </p>
            )}
            {preview.changed ? <DiffView file="deployed → files" diff={preview.diff} /> : <p>The files hold the deployed version: nothing changes.</p>}
          </div>
        )}
      </Confirm>
    </>
  );
}
