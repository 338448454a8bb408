import { describe, expect, it } from "vitest";
import { addEdit, applyRuleEdits, applyStepEdits, describeEdit, freeStepId } from "./edits";
import type { Edit, FlowSpec, MappingSpec } from "./types";

const flow: FlowSpec = {
  flow: "f",
  entity: "order",
  triggers: [{ type: "webhook", source: "prestashop", event: "order.created" }],
  steps: [
    { id: "extract", kind: "extract" },
    { id: "map", kind: "map", mapping: "m", output: "doc" },
    { id: "load", kind: "load", input: "doc" },
  ],
};

const mapping: MappingSpec = {
  mapping: "m",
  source: { system: "prestashop", resource: "orders" },
  target: { system: "ax", service: "SalesOrderService", entity: "SalesTable" },
  fields: { CustAccount: "id_customer", Email: { from: "customer.email", mask: "email" } },
  children: { SalesLine: { each: "associations.order_rows", fields: { ItemId: "product_reference" } } },
};

describe("addEdit", () => {
  it("keeps only the latest change of one rule", () => {
    let edits: Edit[] = [];
    edits = addEdit(edits, { op: "set_rule", mapping: "m", field: "X", rule: "a" });
    edits = addEdit(edits, { op: "set_step_option", step: "map", key: "when", value: "true" });
    edits = addEdit(edits, { op: "set_rule", mapping: "m", field: "X", rule: "b" });
    expect(edits).toEqual([
      { op: "set_step_option", step: "map", key: "when", value: "true" },
      { op: "set_rule", mapping: "m", field: "X", rule: "b" },
    ]);
  });

  it("drops a rule added and removed in the same session, but keeps removing one the file has", () => {
    const hasRule = (e: Edit) => e.op === "remove_rule" && e.field in mapping.fields;
    const added = addEdit([], { op: "set_rule", mapping: "m", field: "New", rule: "a" });
    expect(addEdit(added, { op: "remove_rule", mapping: "m", field: "New" }, { hasRule })).toEqual([]);
    const changed = addEdit([], { op: "set_rule", mapping: "m", field: "Email", rule: "x" });
    expect(addEdit(changed, { op: "remove_rule", mapping: "m", field: "Email" }, { hasRule })).toEqual([
      { op: "remove_rule", mapping: "m", field: "Email" },
    ]);
  });

  it("a rule of a child mapping is not the same as the parent's rule of that name", () => {
    const a = addEdit([], { op: "set_rule", mapping: "m", field: "ItemId", rule: "a" });
    expect(addEdit(a, { op: "set_rule", mapping: "m", field: "ItemId", rule: "b", child: "SalesLine" })).toHaveLength(2);
  });

  it("removing a step added in this session forgets it and its options", () => {
    let edits: Edit[] = addEdit([], { op: "add_step", step: { id: "g", kind: "guard" }, after: "map" });
    edits = addEdit(edits, { op: "set_step_option", step: "g", key: "rules", value: [] });
    edits = addEdit(edits, { op: "set_step_option", step: "map", key: "when", value: "x" });
    expect(addEdit(edits, { op: "remove_step", step: "g" })).toEqual([
      { op: "set_step_option", step: "map", key: "when", value: "x" },
    ]);
  });
});

describe("applyStepEdits", () => {
  it("adds, moves, removes and sets options in order", () => {
    const out = applyStepEdits(flow, [
      { op: "add_step", step: { id: "guard", kind: "guard" }, after: "extract" },
      { op: "move_step", step: "load", to: 0 },
      { op: "remove_step", step: "map" },
      { op: "set_step_option", step: "extract", key: "include", value: ["customer"] },
      { op: "set_step_option", step: "guard", key: "when", value: null },
    ]);
    expect(out.steps.map((s) => s.id)).toEqual(["load", "extract", "guard"]);
    expect(out.steps[1].include).toEqual(["customer"]);
    expect(flow.steps.map((s) => s.id)).toEqual(["extract", "map", "load"]); // not changed in place
  });
});

describe("applyRuleEdits", () => {
  it("shows the mapping's and a child's rules with the edits", () => {
    const edits: Edit[] = [
      { op: "set_rule", mapping: "m", field: "City", rule: "address_delivery.city" },
      { op: "remove_rule", mapping: "m", field: "Email" },
      { op: "set_rule", mapping: "m", field: "Name", rule: "product_name", child: "SalesLine" },
      { op: "set_rule", mapping: "other", field: "Nope", rule: "x" },
    ];
    expect(applyRuleEdits(mapping, edits)).toEqual({ CustAccount: "id_customer", City: "address_delivery.city" });
    expect(applyRuleEdits(mapping, edits, "SalesLine")).toEqual({ ItemId: "product_reference", Name: "product_name" });
  });
});

describe("freeStepId and describeEdit", () => {
  it("finds an id not taken and valid for the flow spec", () => {
    expect(freeStepId(flow.steps, "map")).toBe("map-2");
    expect(freeStepId(flow.steps, "Big Orders!")).toBe("big-orders");
    expect(freeStepId(flow.steps, "42")).toBe("step");
  });
  it("says what an edit does", () => {
    expect(describeEdit({ op: "move_step", step: "load", to: 0 })).toBe("Move step load to position 1");
    expect(describeEdit({ op: "set_rule", mapping: "m", field: "ItemId", rule: "x", child: "SalesLine" })).toBe(
      "Mapping m: set SalesLine.ItemId",
    );
  });
});
