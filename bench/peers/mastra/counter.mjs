// The per-step benchmark's Mastra peer: the same counter loop as bench/run's scaffold workflow
// (one step adds 1 to the count; `dountil` runs it again until the count reaches N), run by
// Mastra 0.24 with its LibSQL storage on a file, which persists the run's snapshot after every
// step. Mastra 0.24 is the last line that runs on Node 20 (Debian's is 20; 1.x needs 22).
//
//   node counter.mjs N DB_FILE   prints {"steps": N, "seconds": S}
import { Mastra } from "@mastra/core/mastra";
import { createStep, createWorkflow } from "@mastra/core/workflows";
import { LibSQLStore } from "@mastra/libsql";
import { z } from "zod";

const n = Number(process.argv[2]);
const file = process.argv[3];
if (!Number.isInteger(n) || n < 1 || !file) {
  console.error("usage: node counter.mjs N DB_FILE");
  process.exit(2);
}

const Count = z.object({ count: z.number(), n: z.number() });
const step = createStep({
  id: "step",
  inputSchema: Count,
  outputSchema: Count,
  execute: async ({ inputData }) => ({ count: inputData.count + 1, n: inputData.n }),
});
const counter = createWorkflow({ id: "counter", inputSchema: Count, outputSchema: Count })
  .dountil(step, async ({ inputData }) => inputData.count >= inputData.n)
  .commit();
const mastra = new Mastra({
  workflows: { counter },
  storage: new LibSQLStore({ url: `file:${file}` }),
  logger: false,
  telemetry: { enabled: false },
});

const start = process.hrtime.bigint();
const run = await mastra.getWorkflow("counter").createRunAsync();
const result = await run.start({ inputData: { count: 0, n } });
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
if (result.status !== "success" || result.result?.count !== n) {
  console.error(`run ${result.status}, counted to ${result.result?.count}, not ${n}`);
  process.exit(1);
}
console.log(JSON.stringify({ steps: n, seconds }));
