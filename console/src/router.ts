/**
 * A hash router: the console lives at one URL (`/console/`), each screen at `#/<name>[/<id>]`,
 * with an optional `?query` after the path (e.g. `#/messages?status=dead`). Hash routes need no
 * server-side routing and survive a reload.
 */
import { useEffect, useState } from "react";

export interface Route {
  /** The path parts: `#/messages/abc` -> `["messages", "abc"]`; `[]` for the start page. */
  parts: string[];
  /** The query after the path: `#/messages?status=dead` -> `{status: "dead"}`. */
  query: Record<string, string>;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const [path, qs = ""] = raw.split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const query: Record<string, string> = {};
  new URLSearchParams(qs).forEach((v, k) => {
    query[k] = v;
  });
  return { parts, query };
}

/** The hash for a path (parts are encoded) and an optional query (empty values dropped). */
export function href(parts: string[], query?: Record<string, string | undefined>): string {
  const path = "#/" + parts.map(encodeURIComponent).join("/");
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) params.set(k, v);
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export function navigate(parts: string[], query?: Record<string, string | undefined>): void {
  window.location.hash = href(parts, query);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
