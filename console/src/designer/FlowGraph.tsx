/**
 * The flow as a graph (React Flow): triggers on top, the steps below in order. Selecting a node
 * (click, or Tab to it and Enter) selects the step; the step list beside it offers the same
 * actions with plain buttons, so nothing depends on the mouse.
 */
import { Background, Controls, ReactFlow, type Edge, type Node } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useMemo } from "react";
import { flowGraph } from "./layout";
import type { FlowSpec } from "./types";

export default function FlowGraph(props: { flow: FlowSpec; selected: string | null; onSelect: (id: string) => void }) {
  const { nodes, edges } = useMemo(() => {
    const g = flowGraph(props.flow, props.selected);
    const nodes: Node[] = g.nodes.map((n) => ({
      id: n.id,
      position: n.position,
      type: n.type,
      selected: n.selected,
      className: `flow-node kind-${n.data.kind}`,
      ariaLabel: n.data.kind === "trigger" ? `Trigger ${n.data.label}` : `Step ${n.data.label}, ${n.data.kind}`,
      draggable: false,
      connectable: false,
      data: {
        label: (
          <div>
            <div className="node-kind">{n.data.kind}</div>
            <div className="node-label">{n.data.label}</div>
            {n.data.detail && <div className="node-detail">{n.data.detail}</div>}
          </div>
        ),
      },
    }));
    const edges: Edge[] = g.edges.map((e) => ({ ...e, type: "smoothstep" }));
    return { nodes, edges };
  }, [props.flow, props.selected]);

  return (
    <div className="flow-graph" role="group" aria-label={`Flow ${props.flow.flow} as a graph`}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        fitView
        fitViewOptions={{ padding: 0.1 }}
        nodesDraggable={false}
        nodesConnectable={false}
        onNodeClick={(_, node) => node.id.startsWith("step-") && props.onSelect(node.id.slice(5))}
        onNodesChange={(changes) => {
          // the nodes are controlled: a selection by keyboard (Enter on a focused node) arrives here
          const chosen = changes.find((c) => c.type === "select" && c.selected && c.id.startsWith("step-"));
          if (chosen && chosen.type === "select" && chosen.id.slice(5) !== props.selected) props.onSelect(chosen.id.slice(5));
        }}
        minZoom={0.3}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
