/**
 * Conflicts: fields changed on both sides of a two-way sync, which side won and by which rule.
 * Personal fields are masked by the server.
 */
import { useState, type FormEvent } from "react";
import { api } from "../api";
import { Badge, ErrorBanner, PageHeader, scrollBox } from "../components/ui";
import { show, when } from "../format";
import { href, navigate, type Route } from "../router";
import { usePoll } from "../usePoll";

interface Conflict {
  id: number;
  at: number;
  entity: string;
  key: string;
  flow: string | null;
  message_id: string | null;
  field: string;
  winner: string;
  rule: string;
  ps_value: unknown;
  ax_value: unknown;
}

export default function Conflicts({ route }: { route: Route }) {
  const [entity, setEntity] = useState(route.query.entity ?? "");
  const [key, setKey] = useState(route.query.key ?? "");
  const q = route.query;
  const list = usePoll((signal) => api<{ items: Conflict[] }>("/conflicts", { signal, query: { entity: q.entity, key: q.key, limit: 200 } }), 10000, [q.entity, q.key]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    navigate(["conflicts"], { entity: entity.trim(), key: key.trim() });
  };
  return (
    <section aria-labelledby="cf-title">
      <PageHeader title="Conflicts" />
      <form className="card row" onSubmit={submit} style={{ marginBottom: "0.8rem" }} aria-label="Filter conflicts">
        <div className="field">
          <label htmlFor="cf-entity">Entity</label>
          <input id="cf-entity" value={entity} onChange={(e) => setEntity(e.target.value)} placeholder="e.g. customer" />
        </div>
        <div className="field">
          <label htmlFor="cf-key">Record key</label>
          <input id="cf-key" value={key} onChange={(e) => setKey(e.target.value)} />
        </div>
        <button type="submit">Filter</button>
      </form>
      <ErrorBanner error={list.error} />
      <div className="table-wrap" {...scrollBox("Conflicts")}>
        <table aria-label="Conflicts">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Record</th>
              <th scope="col">Field</th>
              <th scope="col">Shop value</th>
              <th scope="col">AX value</th>
              <th scope="col">Winner</th>
              <th scope="col">Rule</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  No conflict was logged.
                </td>
              </tr>
            )}
            {list.data?.items.map((c) => (
              <tr key={c.id}>
                <td>{c.message_id ? <a href={href(["messages", c.message_id])}>{when(c.at)}</a> : when(c.at)}</td>
                <td>
                  {c.entity} <code>{c.key}</code>
                </td>
                <td>
                  <code>{c.field}</code>
                </td>
                <td>{show(c.ps_value)}</td>
                <td>{show(c.ax_value)}</td>
                <td>
                  <Badge status={c.winner === "ax" || c.winner === "prestashop" ? "done" : "discarded"} /> {c.winner}
                </td>
                <td>{c.rule}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
