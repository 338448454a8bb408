/**
 * Dashboard: what is flowing and failing at a glance. Polls /stats/overview and /stats/throughput
 * every 5 s (only while the tab is visible): queue depth, oldest pending age, alerts, throughput
 * and errors per entity and flow, pollers and the dispatcher's lease.
 */
import { useState } from "react";
import { api } from "../api";
import Chart from "../components/Chart";
import { Badge, ErrorBanner, PageHeader, scrollBox } from "../components/ui";
import { age, when } from "../format";
import { href, type Route } from "../router";
import type { Overview, Series, Throughput } from "../types";
import { usePoll } from "../usePoll";

const WINDOWS: { label: string; window: number; bucket: number }[] = [
  { label: "15 minutes", window: 900, bucket: 15 },
  { label: "1 hour", window: 3600, bucket: 60 },
  { label: "6 hours", window: 6 * 3600, bucket: 300 },
  { label: "24 hours", window: 86400, bucket: 1200 },
];

/** The series of one entity summed over its flows: received, done, failed per bucket. */
interface EntitySeries {
  entity: string;
  flows: string[];
  received: number[];
  done: number[];
  failed: number[];
}

export function byEntity(series: Series[]): EntitySeries[] {
  const out = new Map<string, EntitySeries>();
  for (const s of series) {
    const n = s.received.length;
    const e: EntitySeries = out.get(s.entity) ?? { entity: s.entity, flows: [], received: Array<number>(n).fill(0), done: Array<number>(n).fill(0), failed: Array<number>(n).fill(0) };
    if (s.flow && !e.flows.includes(s.flow)) e.flows.push(s.flow);
    for (let i = 0; i < n; i++) {
      e.received[i] += s.received[i];
      e.done[i] += s.done[i];
      e.failed[i] += s.failed[i];
    }
    out.set(s.entity, e);
  }
  return [...out.values()].sort((a, b) => a.entity.localeCompare(b.entity));
}

interface Health {
  breakers?: Record<string, { system: string; state: string; failures: number | null; next_probe_at: number | null }>;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export default function Dashboard(_props: { route: Route }) {
  const [w, setW] = useState(1);
  const win = WINDOWS[w];
  const ov = usePoll((signal) => api<Overview>("/stats/overview", { signal }), 5000);
  const tp = usePoll((signal) => api<Throughput>("/stats/throughput", { signal, query: { window: win.window, bucket: win.bucket } }), 5000, [w]);
  // circuit breakers per target system come with the health answer (runtime/breaker_actor.py)
  const health = usePoll((signal) => api<Health>("/health", { signal }), 5000);
  const breakers = Object.values(health.data?.breakers ?? {});
  const o = ov.data;
  const t = tp.data;
  const entities = t ? byEntity(t.series) : [];

  return (
    <section aria-labelledby="dash-title">
      <PageHeader title="Dashboard">
        <div className="field">
          <label htmlFor="window">Time window</label>
          <select id="window" value={w} onChange={(e) => setW(Number(e.target.value))}>
            {WINDOWS.map((x, i) => (
              <option key={x.label} value={i}>
                last {x.label}
              </option>
            ))}
          </select>
        </div>
      </PageHeader>
      <ErrorBanner error={ov.error ?? tp.error} />
      <p className="hint" aria-live="polite">
        {o ? `Updated ${when(o.now)} · refreshes every 5 s` : "Loading…"}
      </p>

      <div className="tiles" data-testid="tiles">
        <Tile label="Pending" value={o?.totals.pending} href={href(["messages"], { status: "new" })} />
        <Tile label="Retrying" value={o?.totals.retrying} href={href(["messages"], { status: "retry" })} tone={o?.totals.retrying ? "warn" : undefined} />
        <Tile label="Dead letters" value={o?.totals.dead} href={href(["dlq"])} tone={o?.totals.dead ? "bad" : undefined} />
        <Tile label="Held for review" value={o?.totals.held} href={href(["review"])} tone={o?.totals.held ? "warn" : undefined} />
        <Tile label="Oldest pending" value={o ? age(o.totals.oldest_pending_s) : undefined} />
        <Tile label="Alerts" value={o?.alerts.count} tone={o?.alerts.count ? "bad" : undefined} />
      </div>

      <h2>Throughput and errors per entity</h2>
      {t && entities.length === 0 && <p className="muted">Nothing flowed in the last {win.label}.</p>}
      <div className="grid">
        {t &&
          entities.map((e) => (
            <div className="card" key={e.entity} data-testid={`entity-${e.entity}`}>
              <h3 style={{ marginTop: 0 }}>
                {e.entity}
                <span className="flows">{e.flows.join(" · ") || "not run by a flow yet"}</span>
              </h3>
              <Chart
                title={`${e.entity} messages`}
                start={t.start}
                bucketS={t.bucket_s}
                series={[
                  { label: "done", color: "#1d6b32", values: e.done },
                  { label: "failed", color: "#b3261e", values: e.failed },
                ]}
              />
              <p className="hint" style={{ marginBottom: 0 }}>
                received {sum(e.received)}
              </p>
            </div>
          ))}
      </div>

      {t && t.series.some((s) => s.flow) && (
        <>
          <h2>Per flow</h2>
          <div className="table-wrap" {...scrollBox("Messages per flow and entity")}>
            <table>
              <caption className="skip">Messages per flow and entity in the window</caption>
              <thead>
                <tr>
                  <th scope="col">Flow</th>
                  <th scope="col">Entity</th>
                  <th scope="col" className="num">Done</th>
                  <th scope="col" className="num">Failed attempts</th>
                </tr>
              </thead>
              <tbody>
                {t.series
                  .filter((s) => s.flow)
                  .map((s) => (
                    <tr key={`${s.flow}-${s.entity}`}>
                      <td>{s.flow}</td>
                      <td>{s.entity}</td>
                      <td className="num">{sum(s.done)}</td>
                      <td className={`num ${sum(s.failed) ? "bad" : ""}`}>{sum(s.failed)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </>
      )}

      <h2>Queues per entity</h2>
      <div className="table-wrap" {...scrollBox("Queues per entity")}>
        <table>
          <thead>
            <tr>
              <th scope="col">Entity</th>
              <th scope="col" className="num">Pending</th>
              <th scope="col" className="num">Retrying</th>
              <th scope="col" className="num">Dead</th>
              <th scope="col" className="num">Held</th>
              <th scope="col" className="num">Oldest pending</th>
            </tr>
          </thead>
          <tbody>
            {o && Object.keys(o.entities).length === 0 && (
              <tr>
                <td colSpan={6} className="muted">
                  All queues are empty.
                </td>
              </tr>
            )}
            {o &&
              Object.entries(o.entities).map(([name, d]) => (
                <tr key={name}>
                  <td>{name}</td>
                  <td className="num">{d.pending}</td>
                  <td className="num">{d.retrying}</td>
                  <td className="num">{d.dead ? <a href={href(["dlq"], { entity: name })}>{d.dead}</a> : 0}</td>
                  <td className="num">{d.held}</td>
                  <td className="num">{age(d.oldest_pending_s)}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </div>

      <div className="grid" style={{ marginTop: "1rem" }}>
        <div className="card">
          <h2 style={{ marginTop: 0 }}>Systems, pollers and leases</h2>
          {o && o.pollers.length === 0 && <p className="muted">No poller has run yet.</p>}
          <div className="scroll-x">
          <table className="compact" aria-label="Systems, pollers and leases">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col" className="num">Last activity</th>
              </tr>
            </thead>
            <tbody>
              {breakers.map((b) => (
                <tr key={b.system}>
                  <td>
                    <code>{b.system}</code>
                  </td>
                  <td>
                    circuit <Badge status={b.state} label={b.state.replace("_", " ")} />
                  </td>
                  <td className="num">
                    {b.state === "open" && b.next_probe_at ? `probe at ${when(b.next_probe_at)}` : `${b.failures ?? "?"} recent failures`}
                  </td>
                </tr>
              ))}
              {o?.pollers.map((p) => (
                <tr key={p.name}>
                  <td>
                    <code>{p.name}</code>
                  </td>
                  <td className="muted">poller cursor saved</td>
                  <td className="num">{age(p.last_advance_s)} ago</td>
                </tr>
              ))}
              {o?.leases.map((l) => (
                <tr key={l.name}>
                  <td>
                    <code>{l.name}</code>
                  </td>
                  <td>
                    lease <Badge status={l.live ? "running" : "stale"} />
                  </td>
                  <td className="num">{age(l.renewed_s_ago)} ago</td>
                </tr>
              ))}
            </tbody>
          </table>
          </div>
        </div>
        <div className="card">
          <h2 style={{ marginTop: 0 }}>Alerts</h2>
          {o && o.alerts.items.length === 0 && <p className="muted">No open alert.</p>}
          <ul>
            {o?.alerts.items.map((a) => (
              <li key={a.id}>
                <Badge status={a.severity === "error" ? "failed" : "retrying"} /> <span className="muted">{when(a.at)}</span> {a.source}: {a.message}
              </li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  );
}

function Tile({ label, value, href: link, tone }: { label: string; value: number | string | undefined; href?: string; tone?: "warn" | "bad" }) {
  const v = <span className={`value ${tone ?? ""}`}>{value ?? "…"}</span>;
  return (
    <div className="tile">
      <div className="label">{label}</div>
      {link ? (
        <a href={link} aria-label={`${label}: ${value ?? "loading"}`} style={{ textDecoration: "none" }}>
          {v}
        </a>
      ) : (
        v
      )}
    </div>
  );
}
