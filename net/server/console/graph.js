// The workflow's graph as SVG: phases in layers by distance from the entry, `next` edges
// (dashed when chosen by an expression, both sides of an `if`), the current phase highlighted
// and each phase's visit count.

const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

// The phases an expression may yield: every string in it that names a phase.
function targets(next, phases) {
  const out = new Set();
  const walk = v => {
    if (typeof v === "string") { if (phases.has(v)) out.add(v); }
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(next);
  return [...out];
}

export function edgesOf(workflow) {
  const phases = new Map(Object.entries(workflow.phases || {}));
  const edges = [];
  for (const [name, phase] of phases) {
    if (phase.next === undefined) continue;
    if (typeof phase.next === "string") {
      if (phases.has(phase.next)) edges.push({from: name, to: phase.next, conditional: false});
    } else {
      for (const to of targets(phase.next, phases)) edges.push({from: name, to, conditional: true});
    }
  }
  return edges;
}

function kindOf(phase) {
  for (const k of ["run", "ask", "parallel", "each", "tool", "set", "terminal"]) if (k in phase) return k;
  return "";
}

// Draws into `box`; returns {update(current, visits)} to restyle without a new layout.
export function drawGraph(box, workflow) {
  const names = Object.keys(workflow.phases || {});
  const entry = workflow.entry || names[0];
  const edges = edgesOf(workflow);
  const layer = new Map([[entry, 0]]);
  const queue = [entry];
  while (queue.length) {
    const at = queue.shift();
    for (const e of edges) {
      if (e.from === at && !layer.has(e.to)) { layer.set(e.to, layer.get(at) + 1); queue.push(e.to); }
    }
  }
  let deepest = Math.max(0, ...layer.values());
  for (const n of names) if (!layer.has(n)) layer.set(n, ++deepest);
  const rows = new Map();
  for (const n of names) {
    const l = layer.get(n);
    if (!rows.has(l)) rows.set(l, []);
    rows.get(l).push(n);
  }
  const W = 150, H = 44, GX = 40, GY = 46;
  const widest = Math.max(...[...rows.values()].map(r => r.length));
  const pos = new Map();
  for (const [l, row] of rows) {
    const offset = (widest - row.length) * (W + GX) / 2;
    row.forEach((n, i) => pos.set(n, {x: 10 + offset + i * (W + GX), y: 10 + l * (H + GY)}));
  }
  const width = 20 + widest * (W + GX) - GX + 50;  // room for edges that go back, on the right
  const height = 20 + rows.size * (H + GY) - GY;
  const svg = s("svg", {viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
                        "aria-label": `Phases of ${workflow.name || "the workflow"}`, class: "graph"});
  const defs = s("defs");
  const marker = s("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7,
                              markerHeight: 7, orient: "auto-start-reverse"});
  marker.append(s("path", {d: "M0,0 L10,5 L0,10 z", class: "arrow"}));
  defs.append(marker);
  svg.append(defs);
  for (const e of edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    let d;
    if (e.from === e.to) {
      d = `M${a.x + W},${a.y + 12} C${a.x + W + 40},${a.y - 10} ${a.x + W + 40},${a.y + H + 10} ${a.x + W},${a.y + H - 12}`;
    } else if (b.y > a.y) {
      d = `M${a.x + W / 2},${a.y + H} C${a.x + W / 2},${a.y + H + GY / 2} ${b.x + W / 2},${b.y - GY / 2} ${b.x + W / 2},${b.y}`;
    } else {
      // Back or sideways: around the right side.
      const x = Math.max(a.x, b.x) + W + 20;
      d = `M${a.x + W},${a.y + H / 2} C${x},${a.y + H / 2} ${x},${b.y + H / 2} ${b.x + W},${b.y + H / 2}`;
    }
    svg.append(s("path", {d, class: `edge${e.conditional ? " conditional" : ""}`, "marker-end": "url(#arrow)"}));
  }
  const nodes = new Map();
  for (const n of names) {
    const p = pos.get(n);
    const phase = workflow.phases[n];
    const g = s("g", {class: `node ${kindOf(phase)}`, transform: `translate(${p.x},${p.y})`, "data-phase": n});
    g.append(s("title", {}, `${n}: ${kindOf(phase)}`));
    g.append(s("rect", {width: W, height: H, rx: 8}));
    g.append(s("text", {x: 10, y: 18, class: "name"}, n.length > 18 ? n.slice(0, 17) + "…" : n));
    const sub = s("text", {x: 10, y: 34, class: "kind"}, kindOf(phase));
    g.append(sub);
    const count = s("text", {x: W - 10, y: 18, class: "visits", "text-anchor": "end"}, "");
    g.append(count);
    svg.append(g);
    nodes.set(n, {g, count});
  }
  box.replaceChildren(svg);
  return {
    update(current, visits) {
      for (const [n, {g, count}] of nodes) {
        g.classList.toggle("current", n === current);
        g.classList.toggle("visited", (visits.get(n) || 0) > 0);
        count.textContent = visits.get(n) ? `×${visits.get(n)}` : "";
      }
    },
  };
}
