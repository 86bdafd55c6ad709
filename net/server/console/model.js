// A session folded from its events, in position order: phase visits, agent invocations with
// their text (deltas joined into the text they build), thinking, tool calls, retries, pending
// asks, status and usage. add() takes each event once and marks what changed.

export class SessionModel {
  constructor() {
    this.visits = [];         // {phase, from, enteredAt, exitedAt, reason, next, position, number}
    this.phaseStats = new Map();  // phase -> {visits, totalMs}
    this.current = null;      // the phase entered and not yet exited
    this.blocks = [];         // agent invocations, in the order they started
    this.open = new Map();    // "agent#index" -> its running block
    this.asks = new Map();    // id -> input:requested payload + {timestamp, position}
    this.status = "running";
    this.error = null;
    this.result = undefined;
    this.changed = new Set(); // "timeline", "activity", "asks", "status", "usage"
    this.lastPosition = 0;
  }

  add(events) {
    for (const e of events) {
      if (e.position <= this.lastPosition) continue;  // seen already
      this.lastPosition = e.position;
      this.fold(e);
    }
  }

  blockFor(p) {
    const key = `${p.agent}#${p.index ?? -1}`;
    let b = this.open.get(key);
    if (!b) {
      b = {key, agent: p.agent, index: p.index, model: "", phase: this.current, text: "", thinking: "",
           tools: [], retries: [], status: "running", startedAt: 0, id: this.blocks.length, dirty: true};
      this.blocks.push(b);
      this.open.set(key, b);
    }
    b.dirty = true;
    this.changed.add("activity");
    return b;
  }

  fold(e) {
    const p = e.payload || {};
    switch (e.name) {
      case "workflow:started":
        this.status = "running";
        this.changed.add("status");
        break;
      case "phase:entered": {
        const number = (this.phaseStats.get(p.phase)?.visits || 0) + 1;
        this.visits.push({phase: p.phase, from: p.fromPhase, enteredAt: e.timestamp, position: e.position, number});
        const stats = this.phaseStats.get(p.phase) || {visits: 0, totalMs: 0};
        stats.visits = number;
        this.phaseStats.set(p.phase, stats);
        this.current = p.phase;
        this.changed.add("timeline");
        break;
      }
      case "phase:exited": {
        for (let i = this.visits.length - 1; i >= 0; --i) {
          const v = this.visits[i];
          if (v.phase === p.phase && v.exitedAt === undefined) {
            v.exitedAt = e.timestamp;
            v.reason = p.reason;
            v.next = p.next;
            this.phaseStats.get(p.phase).totalMs += e.timestamp - v.enteredAt;
            break;
          }
        }
        if (this.current === p.phase) this.current = null;
        this.changed.add("timeline");
        break;
      }
      case "agent:started": {
        this.open.delete(`${p.agent}#${p.index ?? -1}`);
        const b = this.blockFor(p);
        b.model = p.model || "";
        b.provider = p.provider || "";
        b.phase = p.phase || this.current;
        b.startedAt = e.timestamp;
        break;
      }
      case "text:delta": this.blockFor(p).text += p.delta || ""; break;
      case "text:complete": this.blockFor(p).text = p.fullText ?? this.blockFor(p).text; break;
      case "thinking:delta": this.blockFor(p).thinking += p.delta || ""; break;
      case "thinking:complete": this.blockFor(p).thinking = p.thinking ?? this.blockFor(p).thinking; break;
      case "tool:called": this.blockFor(p).tools.push({id: p.toolId, name: p.toolName, input: p.input}); break;
      case "tool:result": {
        const b = this.blockFor(p);
        const call = b.tools.find(t => t.id === p.toolId && !("output" in t));
        if (call) { call.output = p.output; call.isError = p.isError; }
        else b.tools.push({id: p.toolId, name: "", output: p.output, isError: p.isError});
        break;
      }
      case "agent:retry": this.blockFor(p).retries.push({attempt: p.attempt, reason: p.reason, delayMs: p.delayMs}); break;
      case "agent:completed": {
        const b = this.blockFor(p);
        b.status = "done";
        b.output = p.output;
        b.durationMs = p.durationMs;
        b.usage = p.usage;
        this.open.delete(b.key);
        this.changed.add("usage");
        break;
      }
      case "input:requested":
        this.asks.set(p.id, {...p, timestamp: e.timestamp, position: e.position});
        this.changed.add("asks");
        break;
      case "input:received":
        this.asks.delete(p.id);
        this.changed.add("asks");
        break;
      case "session:paused": this.status = "paused"; this.changed.add("status"); break;
      case "session:resumed": this.status = "running"; this.changed.add("status"); break;
      case "workflow:completed":
        this.status = "completed";
        this.result = p.result;
        this.asks.clear();
        for (const b of this.open.values()) { b.status = "done"; b.dirty = true; }
        this.changed.add("status").add("asks");
        break;
      case "workflow:error":
        this.status = "failed";
        this.error = p.error;
        this.asks.clear();
        for (const b of this.open.values()) { b.status = "failed"; b.dirty = true; }
        this.changed.add("status").add("asks").add("activity");
        break;
      default:
        break;
    }
  }

  take(what) {
    const had = this.changed.has(what);
    this.changed.delete(what);
    return had;
  }
}
