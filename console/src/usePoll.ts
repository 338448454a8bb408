/**
 * `usePoll(load, ms)`: run `load` now and every `ms` milliseconds while the component is shown
 * and the tab is visible (a hidden tab costs the bridge nothing); `reload()` runs it at once.
 * A failing load keeps the last good data and reports the error; a 401 is handled by api.ts.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { errorText } from "./api";

export interface Polled<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, ms: number, deps: unknown[] = []): Polled<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const run = async () => {
      if (document.visibilityState !== "hidden") {
        try {
          const d = await loadRef.current(ctl.signal);
          if (!stopped) {
            setData(d);
            setError(null);
          }
        } catch (e) {
          if (!stopped && !(e instanceof DOMException && e.name === "AbortError")) setError(errorText(e));
        } finally {
          if (!stopped) setLoading(false);
        }
      }
      if (!stopped && ms > 0) timer = setTimeout(run, ms);
    };
    setLoading(true);
    void run();
    return () => {
      stopped = true;
      ctl.abort();
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ms, tick, ...deps]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}
