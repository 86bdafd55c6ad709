// The per-step benchmark's LangGraph.js peer: the same counter loop as bench/run's scaffold
// workflow (one node adds 1 to the count; a conditional edge goes back to it until the count
// reaches N, then ends), every step persisted by LangGraph's SQLite checkpointer to a file.
//
//   node counter.mjs N DB_FILE   prints {"steps": N, "seconds": S}
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";

const n = Number(process.argv[2]);
const file = process.argv[3];
if (!Number.isInteger(n) || n < 1 || !file) {
  console.error("usage: node counter.mjs N DB_FILE");
  process.exit(2);
}

const State = Annotation.Root({
  count: Annotation({ reducer: (_, next) => next, default: () => 0 }),
  n: Annotation({ reducer: (_, next) => next, default: () => 0 }),
});

const graph = new StateGraph(State)
  .addNode("step", (state) => ({ count: state.count + 1 }))
  .addEdge(START, "step")
  .addConditionalEdges("step", (state) => (state.count < state.n ? "step" : END))
  .compile({ checkpointer: SqliteSaver.fromConnString(file) });

const start = process.hrtime.bigint();
const final = await graph.invoke(
  { count: 0, n },
  { configurable: { thread_id: "counter" }, recursionLimit: n + 10 },
);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
if (final.count !== n) {
  console.error(`counted to ${final.count}, not ${n}`);
  process.exit(1);
}
console.log(JSON.stringify({ steps: n, seconds }));
