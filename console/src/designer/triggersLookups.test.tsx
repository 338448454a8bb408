import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { addEdit, applyStepEdits, describeEdit } from "./edits";
import LookupEditor, { lookupsWithEdits, rowsOf, tableFromRows } from "./LookupEditor";
import TriggerPanel, { triggerEdits, triggerProblems } from "./TriggerPanel";
import { inputFor } from "./schemaForm";
import type { Edit, FlowSpec, JsonSchema, MappingSpec, Problem } from "./types";

afterEach(cleanup);

const TRIGGER_SCHEMA: JsonSchema = {
  properties: {
    type: { enum: ["webhook", "poll", "schedule", "bulk"] },
    source: { anyOf: [{ enum: ["prestashop", "ax"] }, { type: "null" }] },
    event: { anyOf: [{ type: "string" }, { type: "null" }] },
    resource: { anyOf: [{ type: "string" }, { type: "null" }] },
    service: { anyOf: [{ type: "string" }, { type: "null" }] },
    every: { anyOf: [{ type: "string" }, { type: "null" }] },
    cron: { anyOf: [{ type: "string" }, { type: "null" }] },
  },
};

const flow: FlowSpec = {
  flow: "f",
  entity: "order",
  triggers: [
    { type: "webhook", source: "prestashop", event: "order.created" },
    { type: "poll", source: "prestashop", resource: "orders", every: "1m" },
  ],
  steps: [{ id: "extract", kind: "extract" }],
};

const problem = (path: string): Problem => ({ file: "f.yaml", line: 3, path, message: "'soon' is not an interval", severity: "error", suggestion: null });

describe("trigger edits", () => {
  it("apply in order to the triggers shown, and the latest change of one option wins", () => {
    let edits: Edit[] = [];
    edits = addEdit(edits, { op: "set_trigger_option", trigger: 1, key: "every", value: "2m" });
    edits = addEdit(edits, { op: "set_trigger_option", trigger: 1, key: "every", value: "5m" });
    expect(edits).toEqual([{ op: "set_trigger_option", trigger: 1, key: "every", value: "5m" }]);
    edits = addEdit(edits, { op: "add_trigger", trigger: { type: "schedule", cron: "0 * * * *" } });
    edits = addEdit(edits, { op: "remove_trigger", trigger: 0 });
    // after a removal the positions moved: a change of trigger 1 is another trigger, not merged
    edits = addEdit(edits, { op: "set_trigger_option", trigger: 1, key: "every", value: null });
    expect(edits).toHaveLength(4);
    const shown = applyStepEdits(flow, edits).triggers;
    expect(shown).toEqual([{ type: "poll", source: "prestashop", resource: "orders", every: "5m" }, { type: "schedule", cron: "0 * * * *" }]);
    expect(flow.triggers[1].every).toBe("1m"); // the original is untouched
    expect(describeEdit(edits[0])).toBe("Trigger 2: set every");
    expect(describeEdit(edits[3])).toBe("Trigger 2: remove every");
  });

  it("are made only for the options that changed", () => {
    const specs = ["type", "every", "source"].map((k) => inputFor(k, TRIGGER_SCHEMA));
    const before = { type: "poll", every: "1m", source: "prestashop" };
    expect(triggerEdits(1, specs, before, { ...before, every: "5m" })).toEqual([{ op: "set_trigger_option", trigger: 1, key: "every", value: "5m" }]);
    expect(triggerEdits(1, specs, before, { ...before, every: "" })).toEqual([{ op: "set_trigger_option", trigger: 1, key: "every", value: null }]);
    expect(() => triggerEdits(1, specs, before, { ...before, source: "sap" })).toThrow(/one of prestashop, ax/);
  });

  it("shows a trigger's own lint problems in its form", () => {
    expect(triggerProblems([problem("triggers[1].every"), problem("triggers[10].every"), problem("steps[1]")], 1)).toHaveLength(1);
    const onEdit = vi.fn();
    render(<TriggerPanel triggers={flow.triggers} schema={TRIGGER_SCHEMA} problems={[problem("triggers[1].every")]} onEdit={onEdit} />);
    fireEvent.click(screen.getByRole("button", { name: /orders/ }));
    expect(screen.getByRole("list", { name: "Problems of this trigger" }).textContent).toContain("not an interval");
    const every = screen.getByLabelText("every") as HTMLInputElement;
    expect(every.value).toBe("1m");
    fireEvent.change(every, { target: { value: "10m" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply to trigger" }));
    expect(onEdit).toHaveBeenCalledWith({ op: "set_trigger_option", trigger: 1, key: "every", value: "10m" });
  });
});

const mapping: MappingSpec = {
  mapping: "m",
  source: { system: "prestashop", resource: "orders" },
  target: { system: "ax", service: "SalesOrderService", entity: "SalesTable" },
  lookups: { country: { description: "ISO -> AX", values: { FR: "FRA", DE: "DEU", N: 1 }, on_missing: "error" } },
  fields: {},
};

describe("lookup tables", () => {
  it("round-trip through rows: types kept where unchanged, description kept, no option added", () => {
    const rows = rowsOf(mapping.lookups?.country);
    expect(rows).toEqual([{ key: "FR", value: "FRA" }, { key: "DE", value: "DEU" }, { key: "N", value: "1" }]);
    const table = tableFromRows([...rows, { key: " PT ", value: "PRT" }], "error", "", mapping.lookups?.country);
    expect(table).toEqual({ description: "ISO -> AX", values: { FR: "FRA", DE: "DEU", N: 1, PT: "PRT" }, on_missing: "error" });
    expect(tableFromRows([{ key: "X", value: "1" }], "error", "", undefined)).toEqual({ values: { X: "1" } });
    expect(() => tableFromRows([{ key: "FR", value: "a" }, { key: "FR", value: "b" }], "error", "", undefined)).toThrow(/twice/);
    expect(() => tableFromRows([{ key: " ", value: "a" }], "error", "", undefined)).toThrow(/needs a key/);
  });

  it("pending edits show in the tables, and the editor applies a changed row as one set_lookup", () => {
    const edits: Edit[] = [{ op: "set_lookup", mapping: "m", table: "carrier", lookup: { values: { "1": "UPS" } } }];
    expect(Object.keys(lookupsWithEdits(mapping, edits, "m"))).toEqual(["country", "carrier"]);
    expect(Object.keys(lookupsWithEdits(mapping, edits, "other"))).toEqual(["country"]);
    const onEdit = vi.fn();
    render(<LookupEditor name="m" spec={mapping} edits={[]} problems={[]} onEdit={onEdit} />);
    fireEvent.change(screen.getByLabelText("Value of DE"), { target: { value: "GER" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply table" }));
    expect(onEdit).toHaveBeenCalledWith({
      op: "set_lookup",
      mapping: "m",
      table: "country",
      lookup: { description: "ISO -> AX", values: { FR: "FRA", DE: "GER", N: 1 }, on_missing: "error" },
    });
  });
});
