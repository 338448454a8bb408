/**
 * The source vs mapped table: one row per mapped field with its value and the source fields
 * that hold the same value ("computed / default / lookup" when none does). Used by the message
 * explorer for the dry-run and for the journaled run (RunPayloads).
 */
import type { DiffRow } from "../format";
import { show } from "../format";
import { scrollBox } from "./ui";

export default function DiffTable({ rows, label, sources = (p) => p.join(", ") }: {
  rows: DiffRow[];
  /** accessible name of the table and of its scroll box */
  label: string;
  /** how the source fields of a row are written */
  sources?: (paths: string[]) => string;
}) {
  return (
    <div className="table-wrap" {...scrollBox(label)}>
      <table className="diff" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">Mapped field</th>
            <th scope="col">Value</th>
            <th scope="col">Same value in source field</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.target}>
              <td>
                <code>{r.target}</code>
              </td>
              <td>{show(r.value)}</td>
              <td className={r.from.length ? "" : "changed"}>{r.from.length ? sources(r.from) : "computed / default / lookup"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
