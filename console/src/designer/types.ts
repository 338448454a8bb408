/** Shapes of the designer API (runtime/app/designer_api.py) and of the edits it accepts. */

export interface FieldInfo {
  name: string;
  type: string;
  required: boolean;
  max_length: number | null;
  enum: string[] | null;
  read_only?: boolean;
}

/** A mapping rule as the YAML holds it: a source path (short form) or an object. */
export type RuleSpec = string | Record<string, unknown>;

export interface ChildSpec {
  each: string;
  fields: Record<string, RuleSpec>;
  children?: Record<string, ChildSpec>;
  [k: string]: unknown;
}

export interface MappingSpec {
  mapping: string;
  source: { system: string; resource?: string; service?: string; entity?: string; includes?: Record<string, string> };
  target: { system: string; resource?: string; service?: string; entity?: string };
  params?: Record<string, unknown>;
  lookups?: Record<string, { values: Record<string, unknown>; on_missing?: string; default?: unknown; description?: string }>;
  fields: Record<string, RuleSpec>;
  children?: Record<string, ChildSpec>;
}

export interface MappingInfo {
  file: string;
  spec: MappingSpec;
  fields: { source: FieldInfo[]; target: FieldInfo[] };
}

export interface StepSpec {
  id: string;
  kind: string;
  [k: string]: unknown;
}

export interface TriggerSpec {
  type: string;
  [k: string]: unknown;
  source?: string;
  event?: string;
  resource?: string;
  service?: string;
  every?: string;
  cron?: string;
}

export interface FlowSpec {
  flow: string;
  entity: string;
  description?: string;
  triggers: TriggerSpec[];
  steps: StepSpec[];
}

export interface FlowFile {
  file: string;
  mapping: string | null;
  text: string;
  hash: string;
}

export interface FlowDetail {
  name: string;
  entity: string;
  version_id: string;
  deployed_version: string | null;
  flow_file: string;
  files: FlowFile[];
  flow: FlowSpec;
  mappings: Record<string, MappingInfo>;
  sample: Record<string, unknown> | null;
}

export interface Problem {
  file: string;
  line: number;
  path: string;
  message: string;
  severity: "error" | "warning";
  suggestion: string | null;
}

export interface FileDiff {
  file: string;
  diff: string;
}

export interface TestStep {
  id: string;
  kind: string;
  status: string;
  reason?: string;
  output?: unknown;
  error?: { type?: string; message?: string };
  verdict?: { reason?: string };
  would_send?: string;
}

export interface TestResult {
  flow: string;
  version_id: string;
  ok: boolean;
  outcome: string;
  steps: TestStep[];
  problems: Problem[];
}

/** The edits of pipelines/yaml_edit.py. */
export type Edit =
  | { op: "add_step"; step: StepSpec; after?: string }
  | { op: "remove_step"; step: string }
  | { op: "move_step"; step: string; to: number }
  | { op: "set_step_option"; step: string; key: string; value: unknown }
  | { op: "set_rule"; mapping: string; field: string; rule: RuleSpec; child?: string }
  | { op: "remove_rule"; mapping: string; field: string; child?: string }
  | { op: "set_lookup"; mapping: string; table: string; lookup: Record<string, unknown> | null }
  | { op: "add_trigger"; trigger: TriggerSpec }
  | { op: "remove_trigger"; trigger: number }
  | { op: "set_trigger_option"; trigger: number; key: string; value: unknown };

export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  default?: unknown;
  title?: string;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  const?: unknown;
}

export interface DesignerSchema {
  step: JsonSchema;
  rule: JsonSchema;
  lookup: JsonSchema;
  trigger?: JsonSchema;
  ops: string[];
  step_kinds: string[];
}
