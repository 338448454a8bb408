/** The admin API's shapes the screens read (see runtime/app/*.py and /api/v1/openapi.json). */

export interface Message {
  id: string;
  seq: number;
  entity: string;
  key: string;
  source: string;
  event: string;
  payload: Record<string, unknown>;
  status: string;
  attempts: number;
  received_at: number;
  updated_at: number | null;
  flow: string | null;
  last_error: { type?: string; message?: string; [k: string]: unknown } | null;
  trace_id: string | null;
  trace_url: string | null;
}

export interface TimelineEvent {
  at: number;
  kind: string;
  attempt: number | null;
  detail: Record<string, unknown> | null;
}

/** What one step produced in a real run, masked when journaled (pipelines/step_payloads.py). */
export interface StepPayload {
  step: string;
  kind: string | null;
  at: number;
  /** The JSON document; the cut JSON text when `truncated`. */
  payload: unknown;
  truncated: boolean;
  size: number;
}

export interface MessageDetail extends Message {
  timeline: TimelineEvent[];
  /** Absent from bridges older than the step journal. */
  step_payloads?: { attempt: number | null; steps: StepPayload[] };
}

export interface EntityDepth {
  pending: number;
  retrying: number;
  dead: number;
  held: number;
  oldest_pending_s: number | null;
}

export interface Alert {
  id: number;
  at: number;
  severity: string;
  source: string;
  message: string;
}

export interface Overview {
  now: number;
  totals: EntityDepth;
  entities: Record<string, EntityDepth>;
  alerts: { count: number; items: Alert[] };
  pollers: { name: string; last_advance_s: number }[];
  leases: { name: string; holder: string; renewed_s_ago: number; live: boolean }[];
}

export interface Series {
  flow: string | null;
  entity: string;
  received: number[];
  done: number[];
  failed: number[];
}

export interface Throughput {
  start: number;
  bucket_s: number;
  buckets: number;
  series: Series[];
}

export interface Span {
  span_id: string;
  parent_id: string | null;
  name: string;
  start_us: number;
  duration_us: number;
  service: string | null;
  error: boolean;
  attrs: Record<string, unknown>;
}

export interface TraceAnswer {
  configured: boolean;
  found?: boolean;
  trace_id: string;
  spans: Span[];
  ui_url: string | null;
}
