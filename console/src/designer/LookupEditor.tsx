/**
 * The lookup tables of a mapping (`lookups:` — e.g. shop currency code -> AX currency code):
 * choose a table or start a new one, edit its rows, what happens to a value it does not list
 * (`on_missing`: error, default, keep) and its default, with the lint problems of the table
 * under it. "Apply table" becomes one `set_lookup` edit; the save changes only the edited entries
 * of the file (pipelines/yaml_edit.py).
 */
import { scrollBox } from "../components/ui";
import { useState } from "react";
import FormProblems from "./FormProblems";
import type { Edit, MappingSpec, Problem } from "./types";

type Table = NonNullable<MappingSpec["lookups"]>[string];
export interface Row {
  key: string;
  value: string;
}

const ON_MISSING = ["error", "default", "keep"];

/** The mapping's tables with the pending `set_lookup` edits of `mapping` applied. */
export function lookupsWithEdits(spec: MappingSpec, edits: Edit[], mapping: string): Record<string, Table> {
  let out: Record<string, Table> = { ...(spec.lookups ?? {}) };
  for (const e of edits) {
    if (e.op !== "set_lookup" || e.mapping !== mapping) continue;
    if (e.lookup === null) {
      const { [e.table]: _gone, ...rest } = out;
      void _gone;
      out = rest;
    } else out = { ...out, [e.table]: e.lookup as Table };
  }
  return out;
}

/** A table as editable rows: every value as text. */
export function rowsOf(table: Table | undefined): Row[] {
  return Object.entries(table?.values ?? {}).map(([key, value]) => ({ key, value: typeof value === "string" ? value : JSON.stringify(value) }));
}

/**
 * The table the rows describe: values keep their type where the text is unchanged (a number
 * stays a number); keys are trimmed; an empty key is an error, as is a key given twice.
 */
export function tableFromRows(rows: Row[], onMissing: string, dflt: string, before: Table | undefined): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const r of rows) {
    const key = r.key.trim();
    if (!key) throw new Error("Every row needs a key: the value to look up.");
    if (key in values) throw new Error(`The key '${key}' is listed twice.`);
    const old = before?.values?.[key];
    values[key] = old !== undefined && typeof old !== "string" && JSON.stringify(old) === r.value ? old : r.value;
  }
  const out: Record<string, unknown> = {};
  if (before?.description !== undefined) out.description = before.description; // kept as it is
  out.values = values;
  // options the file leaves out stay out unless set (so a save adds no line nobody asked for)
  if (before?.on_missing !== undefined || onMissing !== "error") out.on_missing = onMissing;
  if (before?.default !== undefined || dflt.trim() !== "") out.default = dflt;
  return out;
}

export default function LookupEditor({ name, spec, edits, problems, onEdit }: { name: string; spec: MappingSpec; edits: Edit[]; problems: Problem[]; onEdit: (e: Edit) => void }) {
  const tables = lookupsWithEdits(spec, edits, name);
  const names = Object.keys(tables);
  const [table, setTable] = useState(names[0] ?? "");
  const [newName, setNewName] = useState("");
  const current = tables[table];
  return (
    <section className="lookup-editor" aria-labelledby="lookup-title">
      <div className="row" style={{ alignItems: "flex-end" }}>
        <h3 id="lookup-title">Lookup tables</h3>
        <div className="field">
          <label htmlFor="lookup-choice">Table</label>
          <select id="lookup-choice" value={table} onChange={(e) => setTable(e.target.value)}>
            {names.length === 0 && <option value="">(none yet)</option>}
            {names.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </div>
        <form className="row" onSubmit={(e) => {
          e.preventDefault();
          const t = newName.trim();
          if (!t) return;
          if (!(t in tables)) onEdit({ op: "set_lookup", mapping: name, table: t, lookup: { values: {}, on_missing: "error" } });
          setTable(t);
          setNewName("");
        }}>
          <div className="field">
            <label htmlFor="lookup-new">New table</label>
            <input id="lookup-new" value={newName} placeholder="e.g. carrier" onChange={(e) => setNewName(e.target.value)} />
          </div>
          <button type="submit" className="secondary">
            Add table
          </button>
        </form>
      </div>
      {table && (
        <TableForm key={`${table}:${JSON.stringify(current)}`} mapping={name} table={table} current={current}
          problems={problems.filter((p) => p.path === `lookups.${table}` || p.path.startsWith(`lookups.${table}.`))} onEdit={onEdit} />
      )}
    </section>
  );
}

function TableForm({ mapping, table, current, problems, onEdit }: { mapping: string; table: string; current: Table | undefined; problems: Problem[]; onEdit: (e: Edit) => void }) {
  const [rows, setRows] = useState<Row[]>(() => rowsOf(current));
  const [onMissing, setOnMissing] = useState(current?.on_missing ?? "error");
  const [dflt, setDflt] = useState(current?.default === undefined || current.default === null ? "" : String(current.default));
  const [error, setError] = useState<string | null>(null);
  const setRow = (i: number, r: Partial<Row>) => setRows((all) => all.map((x, j) => (j === i ? { ...x, ...r } : x)));

  function apply(ev: React.FormEvent) {
    ev.preventDefault();
    try {
      onEdit({ op: "set_lookup", mapping, table, lookup: tableFromRows(rows, onMissing, dflt, current) });
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  return (
    <form onSubmit={apply} aria-label={`Lookup table ${table}`}>
      {current?.description && <p className="hint">{current.description}</p>}
      <div className="table-wrap" {...scrollBox("Rows of the lookup table")}>
        <table className="lookup-rows">
          <thead>
            <tr>
              <th scope="col">Key (looked up)</th>
              <th scope="col">Value</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                <td>
                  <input aria-label={`Key ${i + 1}`} value={r.key} onChange={(e) => setRow(i, { key: e.target.value })} />
                </td>
                <td>
                  <input aria-label={`Value of ${r.key || `row ${i + 1}`}`} value={r.value} onChange={(e) => setRow(i, { value: e.target.value })} />
                </td>
                <td>
                  <button type="button" className="secondary small" aria-label={`Remove ${r.key || `row ${i + 1}`}`} onClick={() => setRows((all) => all.filter((_, j) => j !== i))}>
                    ✕
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="row">
        <button type="button" className="secondary" onClick={() => setRows((all) => [...all, { key: "", value: "" }])}>
          Add row
        </button>
        <div className="field">
          <label htmlFor="lookup-on-missing">When a key is missing</label>
          <select id="lookup-on-missing" value={onMissing} onChange={(e) => setOnMissing(e.target.value)}>
            {ON_MISSING.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="lookup-default">Default</label>
          <input id="lookup-default" value={dflt} onChange={(e) => setDflt(e.target.value)} />
        </div>
        <button type="submit">Apply table</button>
      </div>
      <FormProblems problems={problems} label={`Problems of lookup table ${table}`} name={(path) => path.replace(`lookups.${table}`, table)} />
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
