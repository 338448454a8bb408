/**
 * Bulk runs of `presta-ax sync`: status and live progress (polled every 2 s while a run is
 * running, every 10 s otherwise), counts, writes/s and the shared limiter's state.
 */
import { api } from "../api";
import { Badge, ErrorBanner, PageHeader } from "../components/ui";
import { age, show, when } from "../format";
import type { Route } from "../router";
import { usePoll } from "../usePoll";

interface Run {
  run_id: string;
  kind: string;
  direction?: string;
  status: string;
  started_at: number;
  finished_at: number | null;
  listed: number;
  listing_done: boolean;
  keys_done: number;
  records_done: number;
  chunks_done: number;
  errors: number;
  duration_s: number;
  writes_per_s: number;
  counts: Record<string, number>;
  limiter?: Record<string, unknown>;
}

/** Progress in percent (0-100), or null while the listing is still going (the total is unknown). */
export function progress(r: Pick<Run, "listed" | "listing_done" | "keys_done" | "status">): number | null {
  if (r.status === "done") return 100;
  if (!r.listing_done || r.listed <= 0) return null;
  return Math.min(100, Math.round((r.keys_done / r.listed) * 100));
}

/** The shared write limiter's state in words: the concurrency it allows now, of its ceiling. */
export function limiterText(l: Record<string, unknown>): string {
  if (typeof l.limit !== "number") return `limiter: ${show(l)}`;
  const parts = [`writes in flight allowed ${l.limit} of ${l.ceiling ?? l.max ?? "?"}`];
  if (typeof l.in_use === "number") parts.push(`${l.in_use} in use`);
  if (typeof l.halvings === "number" && l.halvings) parts.push(`backed off ${l.halvings}×`);
  return `limiter: ${parts.join(", ")}`;
}

export default function BulkRuns(_props: { route: Route }) {
  const runs = usePoll((signal) => api<{ items: Run[] }>("/bulk-runs", { signal, query: { limit: 50 } }), 2000);
  return (
    <section aria-labelledby="br-title">
      <PageHeader title="Bulk runs" />
      <p className="hint">
        Started with <code>presta-ax sync catalog|stock|prices|customers</code>; progress updates live.
      </p>
      <ErrorBanner error={runs.error} />
      {runs.data?.items.length === 0 && <p className="muted">No bulk run yet.</p>}
      <div className="grid">
        {runs.data?.items.map((r) => {
          const p = progress(r);
          return (
            <div className="card" key={r.run_id}>
              <h2 style={{ marginTop: 0 }}>
                {r.kind} {r.direction ?? ""} <Badge status={r.status} />
              </h2>
              <p className="muted" style={{ marginTop: 0 }}>
                <code>{r.run_id}</code> · started {when(r.started_at)} · {age(r.duration_s)}
              </p>
              <label htmlFor={`p-${r.run_id}`}>
                {r.keys_done} of {r.listing_done ? r.listed : `${r.listed}+ (listing…)`} records
              </label>
              <progress id={`p-${r.run_id}`} max={100} value={p ?? undefined} style={{ width: "100%" }}>
                {p ?? 0}%
              </progress>
              <p>
                {r.writes_per_s.toFixed(1)} writes/s · {r.chunks_done} chunks · <span className={r.errors ? "bad" : ""}>{r.errors} errors</span>
              </p>
              <p className="hint">
                {Object.entries(r.counts)
                  .filter(([, n]) => n)
                  .map(([k, n]) => `${k} ${n}`)
                  .join(" · ") || "nothing counted yet"}
              </p>
              {r.limiter && <p className="hint">{limiterText(r.limiter)}</p>}
            </div>
          );
        })}
      </div>
    </section>
  );
}
