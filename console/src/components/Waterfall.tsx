/** A trace as a waterfall: spans indented under their parents, ordered by start, bars to scale. */
import { scrollBox } from "./ui";
import type { Span } from "../types";

/** Spans in display order with their depth: parents before children, siblings by start time. */
export function layout(spans: Span[]): { span: Span; depth: number }[] {
  const ids = new Set(spans.map((s) => s.span_id));
  const children = new Map<string | null, Span[]>();
  for (const s of spans) {
    const parent = s.parent_id && ids.has(s.parent_id) ? s.parent_id : null;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const out: { span: Span; depth: number }[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => a.start_us - b.start_us)) {
      out.push({ span: s, depth });
      walk(s.span_id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

const ms = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${us} µs`);

export default function Waterfall({ spans }: { spans: Span[] }) {
  const rows = layout(spans);
  const end = Math.max(1, ...spans.map((s) => s.start_us + s.duration_us));
  return (
    <div className="table-wrap" {...scrollBox("Trace waterfall")}>
      <table className="waterfall" aria-label="Trace waterfall">
        <thead>
          <tr>
            <th scope="col">Span</th>
            <th scope="col">Service</th>
            <th scope="col" className="num">Duration</th>
            <th scope="col" style={{ width: "40%" }}>
              Timeline ({ms(end)})
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ span, depth }) => (
            <tr key={span.span_id}>
              <td style={{ paddingLeft: `${0.5 + depth * 0.9}rem` }}>
                <span className={span.error ? "bad" : ""}>{span.name}</span>
                {Object.keys(span.attrs).length > 0 && (
                  <div className="muted" style={{ fontSize: "0.78rem" }}>
                    {Object.entries(span.attrs)
                      .map(([k, v]) => `${k}=${String(v)}`)
                      .join(" ")}
                  </div>
                )}
              </td>
              <td>{span.service ?? ""}</td>
              <td className="num">{ms(span.duration_us)}</td>
              <td className="lane">
                <div
                  className={`bar ${span.error ? "error" : ""}`}
                  style={{ marginLeft: `${(span.start_us / end) * 100}%`, width: `${Math.max(0.3, (span.duration_us / end) * 100)}%` }}
                  title={`${span.name}: starts at ${ms(span.start_us)}, takes ${ms(span.duration_us)}`}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
