/**
 * Dead-letter queue: filter by entity and error text, select many, replay or discard after a
 * confirmation. A replay re-runs the message with the flow version deployed now, so fix the cause
 * first; the answer says how many were replayed and which were skipped (no longer dead).
 */
import { useMemo, useState } from "react";
import { api, errorText } from "../api";
import { Confirm, ErrorBanner, PageHeader, scrollBox } from "../components/ui";
import { when } from "../format";
import { href, navigate, type Route } from "../router";
import type { Message } from "../types";
import { usePoll } from "../usePoll";

interface Sorted {
  replayed?: string[];
  discarded?: string[];
  skipped: string[];
  not_found: string[];
}

/** The messages whose entity, key, event or error text contains `text` (case-insensitive). */
export function filterDead(items: Message[], text: string): Message[] {
  const t = text.trim().toLowerCase();
  if (!t) return items;
  return items.filter((m) =>
    [m.entity, m.key, m.event, m.last_error?.type, m.last_error?.message].some((v) => typeof v === "string" && v.toLowerCase().includes(t)),
  );
}

export default function DeadLetters({ route }: { route: Route }) {
  const entity = route.query.entity ?? "";
  const dlq = usePoll((signal) => api<{ items: Message[] }>("/dlq", { signal, query: { entity, limit: 500 } }), 5000, [entity]);
  const [text, setText] = useState("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [ask, setAsk] = useState<"replay" | "discard" | null>(null);
  const [reason, setReason] = useState("");
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const shown = useMemo(() => filterDead(dlq.data?.items ?? [], text), [dlq.data, text]);
  const chosen = shown.filter((m) => selected.has(m.id));
  const allOn = shown.length > 0 && chosen.length === shown.length;

  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  async function act(kind: "replay" | "discard") {
    setAsk(null);
    const ids = chosen.map((m) => m.id);
    try {
      const r = await api<Sorted>(`/dlq/${kind}`, { body: kind === "discard" ? { ids, reason: reason || undefined } : { ids } });
      const done = (kind === "replay" ? r.replayed : r.discarded) ?? [];
      setResult(
        `${kind === "replay" ? "Replayed" : "Discarded"} ${done.length} message(s)` +
          (r.skipped.length ? `; ${r.skipped.length} skipped (no longer dead)` : "") +
          (r.not_found.length ? `; ${r.not_found.length} not found` : "") +
          ".",
      );
      setError(null);
      setSelected(new Set());
      setReason("");
      dlq.reload();
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <section aria-labelledby="dlq-title">
      <PageHeader title="Dead letters" />
      <div className="card row" style={{ marginBottom: "0.8rem" }}>
        <div className="field">
          <label htmlFor="dlq-entity">Entity</label>
          <select id="dlq-entity" value={entity} onChange={(e) => navigate(["dlq"], { entity: e.target.value })}>
            {["", "order", "customer", "product", "stock", "price", "shipment", "invoice"].map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </div>
        <div className="field" style={{ flex: 1 }}>
          <label htmlFor="dlq-text">Filter (key, event, error)</label>
          <input id="dlq-text" value={text} onChange={(e) => setText(e.target.value)} placeholder="e.g. ValidationError" />
        </div>
        <button type="button" disabled={!chosen.length} onClick={() => setAsk("replay")}>
          Replay selected ({chosen.length})
        </button>
        <button type="button" className="danger" disabled={!chosen.length} onClick={() => setAsk("discard")}>
          Discard selected ({chosen.length})
        </button>
      </div>
      <ErrorBanner error={error ?? dlq.error} />
      {result && (
        <p className="notice" role="status">
          {result}
        </p>
      )}
      <div className="table-wrap" {...scrollBox("Dead letters")}>
        <table aria-label="Dead letters">
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select all shown"
                  checked={allOn}
                  onChange={() => setSelected(allOn ? new Set() : new Set(shown.map((m) => m.id)))}
                />
              </th>
              <th scope="col">Failed</th>
              <th scope="col">Entity</th>
              <th scope="col">Key</th>
              <th scope="col">Event</th>
              <th scope="col">Flow</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {dlq.data && shown.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  The dead-letter queue is empty{text ? " for this filter" : ""}.
                </td>
              </tr>
            )}
            {shown.map((m) => (
              <tr key={m.id}>
                <td>
                  <input type="checkbox" aria-label={`Select ${m.entity} ${m.key}`} checked={selected.has(m.id)} onChange={() => toggle(m.id)} />
                </td>
                <td>
                  <a href={href(["messages", m.id])}>{when(m.updated_at ?? m.received_at)}</a>
                </td>
                <td>{m.entity}</td>
                <td>
                  <code>{m.key}</code>
                </td>
                <td>{m.event}</td>
                <td>{m.flow ?? "—"}</td>
                <td className="bad">
                  {m.last_error?.type && <strong>{m.last_error.type}: </strong>}
                  {m.last_error?.message}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Confirm open={ask === "replay"} title={`Replay ${chosen.length} message(s)?`} confirmLabel="Replay" onConfirm={() => act("replay")} onCancel={() => setAsk(null)}>
        <p>Each runs again with the flow version deployed now. Fix what made them fail first.</p>
      </Confirm>
      <Confirm open={ask === "discard"} title={`Discard ${chosen.length} message(s)?`} confirmLabel="Discard" danger onConfirm={() => act("discard")} onCancel={() => setAsk(null)}>
        <p>They leave the queue and are kept in the journal as discarded (a discarded message can still be replayed from its page).</p>
        <label htmlFor="discard-reason">Reason (optional)</label>
        <input id="discard-reason" value={reason} onChange={(e) => setReason(e.target.value)} style={{ width: "100%" }} />
      </Confirm>
    </section>
  );
}
