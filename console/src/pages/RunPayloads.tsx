/**
 * What the real run of a message did, step by step: the payload each step produced in the latest
 * attempt (journaled masked by the bridge, 64 KiB per step), and the diff between the source
 * record and a mapped document of that run. Reads `step_payloads` of GET /messages/<id>.
 */
import DiffTable from "../components/DiffTable";
import { useState } from "react";
import { mappingDiff, when } from "../format";
import type { StepPayload } from "../types";

/** The source record of a run (its extract step's output, else the message's own payload) and
 * the map steps whose documents can be compared with it (whole JSON objects, not cut ones). */
export function runDiffInputs(
  steps: StepPayload[],
  messagePayload: unknown,
): { source: unknown; sourceStep: string | null; maps: StepPayload[] } {
  const isDoc = (s: StepPayload) => !s.truncated && s.payload !== null && typeof s.payload === "object";
  const extract = steps.find((s) => s.kind === "extract" && isDoc(s));
  const maps = steps.filter((s) => s.kind === "map" && isDoc(s));
  return { source: extract ? extract.payload : messagePayload, sourceStep: extract ? extract.step : null, maps };
}

/** The source fields holding a mapped value: a few by name (a "1" is in many fields). */
export function sources(paths: string[], shown = 3): string {
  const head = paths.slice(0, shown).join(", ");
  return paths.length > shown ? `${head} and ${paths.length - shown} more` : head;
}

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export default function RunPayloads({
  run,
  messagePayload,
}: {
  run: { attempt: number | null; steps: StepPayload[] } | undefined;
  messagePayload: unknown;
}) {
  const steps = run?.steps ?? [];
  const { source, sourceStep, maps } = runDiffInputs(steps, messagePayload);
  const [chosen, setChosen] = useState<string | null>(null);
  // by default the biggest document: the main one (an order's sales order, not its status write-back)
  const mapped = maps.find((m) => m.step === chosen) ?? maps.reduce<StepPayload | undefined>((a, b) => (a && a.size >= b.size ? a : b), undefined);
  const diff = mapped ? mappingDiff(source, mapped.payload) : null;
  return (
    <div className="card" style={{ marginTop: "0.8rem" }} data-testid="run-payloads">
      <h2 style={{ marginTop: 0 }}>What the run did{run?.attempt ? ` (attempt ${run.attempt})` : ""}</h2>
      {steps.length === 0 ? (
        <p className="muted">No step payloads were journaled for this message (not run yet, or run by a bridge without the step journal).</p>
      ) : (
        <>
          <p className="hint">Each step's output in this run, personal data masked by the bridge before it was stored.</p>
          <ol aria-label="Step payloads" className="step-payloads">
            {steps.map((s) => (
              <li key={s.step}>
                <details>
                  <summary>
                    <strong>{s.step}</strong> ({s.kind ?? "step"}) <span className="muted">{size(s.size)} · {when(s.at)}</span>
                    {s.truncated && <span className="bad"> truncated: first 64 KiB shown</span>}
                  </summary>
                  {/* focusable: a long payload scrolls inside its box, which the keyboard must reach */}
                  <pre tabIndex={0} aria-label={`Output of ${s.step}`}>
                    {typeof s.payload === "string" ? s.payload : JSON.stringify(s.payload, null, 2)}
                  </pre>
                </details>
              </li>
            ))}
          </ol>
        </>
      )}
      {diff && mapped && (
        <>
          <div className="row" style={{ alignItems: "center", gap: "0.6rem" }}>
            <h3 style={{ margin: "0.6rem 0" }}>Source vs mapped, from the run</h3>
            {maps.length > 1 && (
              <label>
                Mapped document{" "}
                <select value={mapped.step} onChange={(e) => setChosen(e.target.value)}>
                  {maps.map((m) => (
                    <option key={m.step} value={m.step}>
                      {m.step}
                    </option>
                  ))}
                </select>
              </label>
            )}
          </div>
          <p className="hint">
            Source: {sourceStep ? <code>{sourceStep}</code> : "the message's payload"}; mapped: <code>{mapped.step}</code>.
          </p>
          <DiffTable rows={diff.rows} label="Source vs mapped from the run" sources={sources} />
        </>
      )}
    </div>
  );
}
