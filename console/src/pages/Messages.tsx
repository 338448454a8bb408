/**
 * Message explorer: search the journal (status, entity, key, shop reference, AX id, trace id,
 * time); `#/messages/<id>` shows one message (pages/MessageDetail.tsx). The search lives in the
 * hash query so a search can be bookmarked and the back button works.
 */
import { useState, type FormEvent } from "react";
import { api } from "../api";
import { Badge, ErrorBanner, PageHeader, scrollBox } from "../components/ui";
import { epochOf, when } from "../format";
import { href, navigate, type Route } from "../router";
import type { Message } from "../types";
import { usePoll } from "../usePoll";
import MessageDetail from "./MessageDetail";

const STATUSES = ["", "new", "processing", "retry", "done", "dead", "discarded", "held", "rejected"];
const ENTITIES = ["", "order", "customer", "product", "stock", "price", "shipment", "invoice"];
const FIELDS: { name: string; label: string; placeholder: string }[] = [
  { name: "key", label: "Record key", placeholder: "e.g. 42" },
  { name: "reference", label: "Shop reference", placeholder: "e.g. XKBKNABJK" },
  { name: "ax_id", label: "AX id", placeholder: "e.g. SO-000123" },
  { name: "trace_id", label: "Trace id", placeholder: "32 hex digits" },
];

export default function Messages({ route }: { route: Route }) {
  if (route.parts[1]) return <MessageDetail id={route.parts[1]} />;
  return <Search query={route.query} />;
}

function Search({ query }: { query: Record<string, string> }) {
  const [form, setForm] = useState<Record<string, string>>(query);
  const q = JSON.stringify(query);
  const res = usePoll(
    (signal) =>
      api<{ items: Message[] }>("/search/messages", {
        signal,
        query: { ...query, since: epochOf(query.since ?? ""), until: epochOf(query.until ?? ""), limit: 100 },
      }),
    10000,
    [q],
  );
  const set = (k: string, v: string) => setForm((f) => ({ ...f, [k]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const clean = Object.fromEntries(Object.entries(form).map(([k, v]) => [k, v.trim()]));
    navigate(["messages"], clean);
  };

  return (
    <section aria-labelledby="msg-title">
      <PageHeader title="Messages" />
      <form className="card row" onSubmit={submit} aria-label="Search messages" style={{ marginBottom: "0.8rem" }}>
        <div className="field">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" value={form.status ?? ""} onChange={(e) => set("status", e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-entity">Entity</label>
          <select id="f-entity" value={form.entity ?? ""} onChange={(e) => set("entity", e.target.value)}>
            {ENTITIES.map((s) => (
              <option key={s} value={s}>
                {s || "any"}
              </option>
            ))}
          </select>
        </div>
        {FIELDS.map((f) => (
          <div className="field" key={f.name}>
            <label htmlFor={`f-${f.name}`}>{f.label}</label>
            <input id={`f-${f.name}`} value={form[f.name] ?? ""} placeholder={f.placeholder} onChange={(e) => set(f.name, e.target.value)} />
          </div>
        ))}
        <div className="field">
          <label htmlFor="f-since">Received from</label>
          <input id="f-since" type="datetime-local" value={form.since ?? ""} onChange={(e) => set("since", e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="f-until">until</label>
          <input id="f-until" type="datetime-local" value={form.until ?? ""} onChange={(e) => set("until", e.target.value)} />
        </div>
        <button type="submit">Search</button>
        <button type="button" className="secondary" onClick={() => (setForm({}), navigate(["messages"]))}>
          Clear
        </button>
      </form>
      <ErrorBanner error={res.error} />
      <div className="table-wrap" {...scrollBox("Messages found")}>
        <table aria-label="Messages found">
          <thead>
            <tr>
              <th scope="col">Received</th>
              <th scope="col">Entity</th>
              <th scope="col">Key</th>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">Attempts</th>
              <th scope="col">Flow</th>
              <th scope="col">Last error</th>
            </tr>
          </thead>
          <tbody>
            {res.data?.items.length === 0 && (
              <tr>
                <td colSpan={8} className="muted">
                  No message matches.
                </td>
              </tr>
            )}
            {res.data?.items.map((m) => (
              <tr key={m.id}>
                <td>
                  <a href={href(["messages", m.id])}>{when(m.received_at)}</a>
                </td>
                <td>{m.entity}</td>
                <td>
                  <code>{m.key}</code>
                </td>
                <td>{m.event}</td>
                <td>
                  <Badge status={m.status} />
                </td>
                <td className="num">{m.attempts}</td>
                <td>{m.flow ?? "—"}</td>
                <td className="bad">{["dead", "retry"].includes(m.status) ? m.last_error?.message?.slice(0, 120) : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
