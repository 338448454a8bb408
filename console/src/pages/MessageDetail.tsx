/**
 * One message: status, timeline (attempts, errors, the flow version that ran each), masked
 * payload, what each step of the real run produced (RunPayloads), a dry re-run of its flow's system-free steps with a source-vs-mapped diff, and its
 * trace as a waterfall from Jaeger (through /api/v1/traces, linking to Jaeger's UI).
 */
import { useState } from "react";
import { api, errorText } from "../api";
import { Badge, Confirm, ErrorBanner, PageHeader } from "../components/ui";
import { mappingDiff, show, when } from "../format";
import { href } from "../router";
import type { MessageDetail as Detail, TraceAnswer } from "../types";
import { usePoll } from "../usePoll";
import DiffTable from "../components/DiffTable";
import Waterfall from "../components/Waterfall";
import RunPayloads from "./RunPayloads";

interface TestStep {
  id: string;
  kind: string;
  status: string;
  reason?: string;
  output?: unknown;
  error?: { message?: string };
}

interface TestRun {
  flow: string;
  version_id: string;
  outcome: string;
  steps: TestStep[];
}

const STEP_TONE: Record<string, string> = { ok: "done", failed: "failed", held: "held", dropped: "discarded", skipped: "discarded" };

/** The flow versions named in a timeline, in order of first appearance. */
export function flowVersions(timeline: Detail["timeline"]): string[] {
  const out: string[] = [];
  for (const e of timeline) {
    const v = e.detail?.flow_version;
    if (typeof v === "string" && !out.includes(v)) out.push(v);
  }
  return out;
}

export default function MessageDetail({ id }: { id: string }) {
  const msg = usePoll((signal) => api<Detail>(`/messages/${encodeURIComponent(id)}`, { signal }), 3000, [id]);
  const m = msg.data;
  const [confirm, setConfirm] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);

  async function replay() {
    setConfirm(false);
    try {
      await api(`/messages/${encodeURIComponent(id)}/replay`, { method: "POST" });
      setActionError(null);
      msg.reload();
    } catch (e) {
      setActionError(errorText(e));
    }
  }

  if (!m) {
    return (
      <section>
        <p>
          <a href={href(["messages"])}>← Messages</a>
        </p>
        <ErrorBanner error={msg.error} />
        {!msg.error && <p>Loading…</p>}
      </section>
    );
  }
  const versions = flowVersions(m.timeline);
  return (
    <section aria-labelledby="md-title">
      <p>
        <a href={href(["messages"])}>← Messages</a>
      </p>
      <PageHeader title={`${m.entity} ${m.key}${typeof m.payload.reference === "string" ? ` · ${m.payload.reference}` : ""}`}>
        {(m.status === "dead" || m.status === "discarded") && (
          <button type="button" onClick={() => setConfirm(true)}>
            Replay
          </button>
        )}
      </PageHeader>
      <ErrorBanner error={actionError ?? msg.error} />
      <div className="card">
        <dl className="facts" style={{ display: "grid", gridTemplateColumns: "max-content 1fr", gap: "0.2rem 1rem", margin: 0 }}>
          <dt>Status</dt>
          <dd data-testid="message-status" style={{ margin: 0 }}>
            <Badge status={m.status} />
          </dd>
          <dt>Event</dt>
          <dd style={{ margin: 0 }}>
            {m.event} from {m.source}
          </dd>
          <dt>Received</dt>
          <dd style={{ margin: 0 }}>{when(m.received_at)}</dd>
          <dt>Attempts</dt>
          <dd style={{ margin: 0 }}>{m.attempts}</dd>
          <dt>Flow</dt>
          <dd style={{ margin: 0 }}>
            {m.flow ?? "—"} {versions.length > 0 && <span className="muted">version {versions.join(" → ")}</span>}
          </dd>
          <dt>Message id</dt>
          <dd style={{ margin: 0 }}>
            <code>{m.id}</code>
          </dd>
          <dt>Trace</dt>
          <dd style={{ margin: 0 }}>
            {m.trace_id ? <code>{m.trace_id}</code> : "—"}{" "}
            {m.trace_url && (
              <a href={m.trace_url} target="_blank" rel="noreferrer noopener">
                open in Jaeger
              </a>
            )}
          </dd>
          {m.last_error && m.status !== "done" && (
            <>
              <dt>Last error</dt>
              <dd className="bad" style={{ margin: 0 }}>
                {m.last_error.type}: {m.last_error.message}
              </dd>
            </>
          )}
        </dl>
      </div>

      <div className="grid" style={{ gridTemplateColumns: "repeat(auto-fit, minmax(320px, 1fr))", marginTop: "0.8rem" }}>
        <div className="card">
          <h2 style={{ marginTop: 0 }}>Timeline</h2>
          <ol className="timeline" aria-label="Timeline">
            {m.timeline.map((e, i) => (
              <li key={i} className={e.kind === "attempt_failed" || e.kind === "dead" ? "failed" : ""}>
                <strong>{e.kind.replace(/_/g, " ")}</strong>
                {e.attempt ? ` (attempt ${e.attempt})` : ""} <span className="muted">{when(e.at)}</span>
                {e.detail && <EventDetail detail={e.detail} />}
              </li>
            ))}
          </ol>
        </div>
        <div className="card">
          <h2 style={{ marginTop: 0 }}>Payload (personal data masked)</h2>
          <pre data-testid="payload">{JSON.stringify(m.payload, null, 2)}</pre>
        </div>
      </div>

      <RunPayloads run={m.step_payloads} messagePayload={m.payload} />
      {m.flow && <Steps flow={m.flow} payload={m.payload} />}
      {m.trace_id && <Trace traceId={m.trace_id} />}

      <Confirm open={confirm} title="Replay this message?" confirmLabel="Replay" onConfirm={replay} onCancel={() => setConfirm(false)}>
        <p>
          It runs again with the flow version deployed now. Replay after fixing what made it fail.
        </p>
      </Confirm>
    </section>
  );
}

function EventDetail({ detail }: { detail: Record<string, unknown> }) {
  const entries = Object.entries(detail).filter(([k]) => k !== "traceback");
  if (entries.length === 0) return null;
  return (
    <ul className="muted" style={{ margin: "0.1rem 0 0", paddingLeft: "1.1rem", fontSize: "0.88rem" }}>
      {entries.map(([k, v]) => (
        <li key={k}>
          {k}: {k === "retry_at" && typeof v === "number" ? when(v) : show(v)}
        </li>
      ))}
    </ul>
  );
}

/** A dry re-run (POST /flows/<flow>/test) of the message's payload: each step's output, and the diff. */
function Steps({ flow, payload }: { flow: string; payload: Record<string, unknown> }) {
  const [run, setRun] = useState<TestRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function go() {
    setBusy(true);
    try {
      setRun(await api<TestRun>(`/flows/${encodeURIComponent(flow)}/test`, { body: { sample: payload, masked: true } }));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }
  const mapped = run?.steps.find((s) => s.kind === "map" && s.status === "ok");
  const diff = mapped ? mappingDiff(payload, mapped.output) : null;
  return (
    <div className="card" style={{ marginTop: "0.8rem" }}>
      <div className="row" style={{ alignItems: "center" }}>
        <h2 style={{ margin: 0 }}>Steps</h2>
        <span className="spacer" />
        <button type="button" className="secondary" onClick={go} disabled={busy}>
          {busy ? "Running…" : "Dry-run the flow on this payload"}
        </button>
      </div>
      <p className="hint">
        Runs the system-free steps (map, validate, guard) of <code>{flow}</code> as deployed on disk now on this payload; nothing is sent to the shop or AX. The
        extract step of a live run may have read more than the payload holds.
      </p>
      <ErrorBanner error={error} />
      {run && (
        <>
          <ol aria-label="Dry-run steps">
            {run.steps.map((s) => (
              <li key={s.id}>
                <strong>{s.id}</strong> ({s.kind}) <Badge status={STEP_TONE[s.status] ?? "discarded"} label={s.status.replace("_", " ")} />{" "}
                {s.reason && <span className="muted">{s.reason}</span>}
                {s.error?.message && <span className="bad"> {s.error.message}</span>}
              </li>
            ))}
          </ol>
          {diff && (
            <>
              <h3>Source vs mapped ({mapped?.id})</h3>
              <DiffTable rows={diff.rows} label="Source vs mapped of the dry-run" />
              {diff.unused.length > 0 && <p className="hint">Source fields not carried over: {diff.unused.join(", ")}</p>}
            </>
          )}
        </>
      )}
    </div>
  );
}

function Trace({ traceId }: { traceId: string }) {
  const t = usePoll((signal) => api<TraceAnswer>(`/traces/${traceId}`, { signal }), 0, [traceId]);
  return (
    <div className="card" style={{ marginTop: "0.8rem" }}>
      <div className="row" style={{ alignItems: "center" }}>
        <h2 style={{ margin: 0 }}>Trace</h2>
        <span className="spacer" />
        <button type="button" className="secondary" onClick={t.reload}>
          Reload trace
        </button>
      </div>
      <ErrorBanner error={t.error} />
      {t.data && !t.data.configured && <p className="muted">No Jaeger is configured (tracing.ui_url): the timeline above is the message's history.</p>}
      {t.data?.configured && !t.data.found && <p className="muted">Jaeger does not have this trace (yet): spans arrive a few seconds after the work.</p>}
      {t.data?.ui_url && (
        <p>
          <a href={t.data.ui_url} target="_blank" rel="noreferrer noopener">
            Open the trace in Jaeger's UI
          </a>
        </p>
      )}
      {t.data && t.data.spans.length > 0 && <Waterfall spans={t.data.spans} />}
    </div>
  );
}
