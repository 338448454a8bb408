/**
 * Review queue of the anomaly guard: records held before they were written. An operator
 * releases one as it is, edits fields and releases it, or rejects it with a reason.
 */
import { useState } from "react";
import { api, errorText } from "../api";
import { Badge, Confirm, ErrorBanner, PageHeader, scrollBox } from "../components/ui";
import { show, when } from "../format";
import { navigate, type Route } from "../router";
import { usePoll } from "../usePoll";

interface Item {
  id: string;
  message_id: string;
  entity: string;
  key: string;
  flow: string | null;
  step: string | null;
  status: string;
  reason: string | null;
  score: number | null;
  signal: unknown;
  created_at: number;
  decided_at: number | null;
  decided_by: string | null;
  record?: unknown;
  edited_fields?: string[];
}

/** The edit box's text as an object of field paths to values, or a sentence saying what is wrong. */
export function parseEdit(text: string): Record<string, unknown> | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return "The edit is not valid JSON.";
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) return 'The edit must be an object of field paths to new values, e.g. {"quantity": 2}.';
  if (Object.keys(v).length === 0) return "The edit changes no field.";
  return v as Record<string, unknown>;
}

export default function Review({ route }: { route: Route }) {
  const status = route.query.status ?? "pending";
  const list = usePoll((signal) => api<{ items: Item[] }>("/review", { signal, query: { status } }), 5000, [status]);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section aria-labelledby="rv-title">
      <PageHeader title="Review queue">
        <div className="field">
          <label htmlFor="rv-status">Show</label>
          <select id="rv-status" value={status} onChange={(e) => navigate(["review"], { status: e.target.value })}>
            {["pending", "released", "rejected", "all"].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
      </PageHeader>
      <ErrorBanner error={list.error} />
      <div className="table-wrap" {...scrollBox("Review items")}>
        <table aria-label="Review items">
          <thead>
            <tr>
              <th scope="col">Held</th>
              <th scope="col">Entity</th>
              <th scope="col">Key</th>
              <th scope="col">Flow / step</th>
              <th scope="col">Why</th>
              <th scope="col">Status</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  Nothing is {status === "all" ? "in the queue" : status}.
                </td>
              </tr>
            )}
            {list.data?.items.map((i) => (
              <tr key={i.id}>
                <td>{when(i.created_at)}</td>
                <td>{i.entity}</td>
                <td>
                  <code>{i.key}</code>
                </td>
                <td>
                  {i.flow} / {i.step}
                </td>
                <td>
                  {i.reason} {i.score !== null && <span className="muted">(score {Number(i.score).toFixed(2)})</span>}
                </td>
                <td>
                  <Badge status={i.status === "pending" ? "held" : i.status} />
                </td>
                <td>
                  <button type="button" className="secondary" onClick={() => setOpen(i.id)} aria-expanded={open === i.id}>
                    {i.status === "pending" ? "Review" : "Show"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {open && <ReviewItem key={open} id={open} onDone={() => (setOpen(null), list.reload())} />}
    </section>
  );
}

function ReviewItem({ id, onDone }: { id: string; onDone: () => void }) {
  const item = usePoll((signal) => api<Item>(`/review/${encodeURIComponent(id)}`, { signal }), 0, [id]);
  const [edit, setEdit] = useState("{}");
  const [reason, setReason] = useState("");
  const [ask, setAsk] = useState<"release" | "edit" | "reject" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const i = item.data;

  async function decide(kind: "release" | "edit" | "reject") {
    setAsk(null);
    try {
      if (kind === "release") await api(`/review/${encodeURIComponent(id)}/release`, { body: {} });
      if (kind === "reject") await api(`/review/${encodeURIComponent(id)}/reject`, { body: { reason } });
      if (kind === "edit") {
        const parsed = parseEdit(edit);
        if (typeof parsed === "string") return setError(parsed);
        await api(`/review/${encodeURIComponent(id)}/edit-and-release`, { body: { edit: parsed } });
      }
      onDone();
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <div className="card" style={{ marginTop: "0.8rem" }} aria-live="polite">
      <h2 style={{ marginTop: 0 }}>Held record {i ? `${i.entity} ${i.key}` : ""}</h2>
      <ErrorBanner error={error ?? item.error} />
      {i && (
        <>
          <p>
            {i.reason} {i.signal != null && <span className="muted">signal: {show(i.signal)}</span>}
          </p>
          <pre className="card" style={{ maxHeight: "18rem", overflow: "auto" }} {...scrollBox("The held record (masked)")}>
            {JSON.stringify(i.record, null, 2)}
          </pre>
          {i.status === "pending" ? (
            <div className="grid" style={{ marginTop: "0.6rem" }}>
              <div>
                <button type="button" onClick={() => setAsk("release")}>
                  Release as it is
                </button>
              </div>
              <div>
                <label htmlFor="rv-edit">Edit (field paths to new values, JSON)</label>
                <textarea id="rv-edit" rows={3} value={edit} onChange={(e) => setEdit(e.target.value)} />
                <button type="button" onClick={() => setAsk("edit")}>
                  Edit and release
                </button>
              </div>
              <div>
                <label htmlFor="rv-reason">Reason to reject</label>
                <input id="rv-reason" value={reason} onChange={(e) => setReason(e.target.value)} style={{ width: "100%" }} />
                <button type="button" className="danger" disabled={!reason.trim()} onClick={() => setAsk("reject")} style={{ marginTop: "0.3rem" }}>
                  Reject
                </button>
              </div>
            </div>
          ) : (
            <p className="muted">
              {i.status} {i.decided_at ? `at ${when(i.decided_at)}` : ""} {i.decided_by ? `by ${i.decided_by}` : ""}
              {i.edited_fields?.length ? ` (edited: ${i.edited_fields.join(", ")})` : ""}
            </p>
          )}
        </>
      )}
      <Confirm
        open={ask !== null}
        title={ask === "reject" ? "Reject this record?" : "Release this record?"}
        confirmLabel={ask === "reject" ? "Reject" : ask === "edit" ? "Edit and release" : "Release"}
        danger={ask === "reject"}
        onConfirm={() => ask && decide(ask)}
        onCancel={() => setAsk(null)}
      >
        <p>{ask === "reject" ? "It will not be written; the message ends as rejected." : "It continues its flow and is written to the target."}</p>
      </Confirm>
    </div>
  );
}
