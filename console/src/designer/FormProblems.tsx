/**
 * The lint problems of one form (a trigger, a lookup table) under it: each with the part it is
 * about (``name`` turns the problem's path into that part) and its message; errors are announced.
 */
import type { Problem } from "./types";

export default function FormProblems({ problems, label, name }: {
  problems: Problem[];
  /** accessible name of the list */
  label: string;
  name: (path: string) => string;
}) {
  if (!problems.length) return null;
  return (
    <ul className="problems" aria-label={label}>
      {problems.map((p, i) => (
        <li key={i} className={p.severity} role={p.severity === "error" ? "alert" : undefined}>
          <strong>{name(p.path)}</strong>: {p.message}
        </li>
      ))}
    </ul>
  );
}
