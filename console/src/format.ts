/** Small pure helpers for showing figures, times and documents (unit-tested in format.test.ts). */

/** "3 s", "4 min", "2 h 5 min", "3 d" — an age or duration in seconds, rounded for reading. */
export function age(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) {
    const m = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ""}`;
  }
  return `${Math.floor(s / 86400)} d`;
}

/** An epoch time (seconds) as local "YYYY-MM-DD HH:MM:SS". */
export function when(epoch: number | null | undefined): string {
  if (!epoch) return "—";
  const d = new Date(epoch * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A <input type="datetime-local"> value as epoch seconds, or undefined when empty/invalid. */
export function epochOf(local: string): number | undefined {
  if (!local) return undefined;
  const t = new Date(local).getTime();
  return Number.isFinite(t) ? t / 1000 : undefined;
}

export type Flat = Record<string, unknown>;

/** A nested document as `{ "a.b[0].c": leaf }`; empty objects/arrays stay as leaves. */
export function flatten(doc: unknown, prefix = "", out: Flat = {}): Flat {
  if (Array.isArray(doc)) {
    if (doc.length === 0 && prefix) out[prefix] = [];
    doc.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else if (doc !== null && typeof doc === "object") {
    const entries = Object.entries(doc as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = {};
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = doc;
  }
  return out;
}

export interface DiffRow {
  /** the field of the mapped document */
  target: string;
  value: unknown;
  /** source fields holding the same value (as text): where the value most likely came from */
  from: string[];
}

/**
 * Source vs mapped: each field of the mapped document with the source fields whose value equals
 * it (compared as text, so 12 and "12.000000" differ but 12 and "12" match). A mapped field with
 * no `from` was computed, defaulted or looked up. Masked values ("***") never match.
 */
export function mappingDiff(source: unknown, mapped: unknown): { rows: DiffRow[]; unused: string[] } {
  const src = flatten(source);
  const byValue = new Map<string, string[]>();
  for (const [path, v] of Object.entries(src)) {
    if (v === null || v === "" || v === "***" || typeof v === "object") continue;
    const key = String(v);
    byValue.set(key, [...(byValue.get(key) ?? []), path]);
  }
  const used = new Set<string>();
  const rows = Object.entries(flatten(mapped)).map(([target, value]) => {
    const from = value === null || value === "" || value === "***" || typeof value === "object"
      ? [] : byValue.get(String(value)) ?? [];
    from.forEach((f) => used.add(f));
    return { target, value, from };
  });
  return { rows, unused: Object.keys(src).filter((p) => !used.has(p)) };
}

/** A value for a table cell: text as is, anything else as compact JSON. */
export function show(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}
