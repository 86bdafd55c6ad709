// An MCP server over stdio that goes wrong on purpose, one way per mode (argv[2]), for the
// failure cases of scaffold's MCP client. It speaks 2025-11-25 correctly until it misbehaves.
//
//   node misbehaving-server.mjs MODE
//
// Modes: well (no misbehaviour), garbage, die, slow, huge, asks, version, badtools, paged,
// stderr-exit, badresult, and for workflows: rich (every kind of content block), badschema (one
// tool's input schema is invalid), changes (every call adds a tool and says the list changed).
import readline from "node:readline";

const mode = process.argv[2] || "well";
const send = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const answers = new Map();  // replies to this server's own requests, by id
let calls = 0;  // "changes": tools/call received so far

if (mode === "stderr-exit") {
  process.stderr.write("starting\nfatal: no configuration file\n");
  process.exit(3);
}

const tools = (from, count) =>
  Array.from({ length: count }, (_, i) => ({
    name: `tool${from + i}`,
    description: `Tool number ${from + i}`,
    inputSchema: { type: "object", properties: { n: { type: "integer" } } },
  }));

function onRequest(m) {
  const reply = (result) => send({ jsonrpc: "2.0", id: m.id, result });
  switch (m.method) {
    case "initialize":
      return reply({
        protocolVersion: mode === "version" ? "2099-01-01" : "2025-11-25",
        capabilities: { tools: { listChanged: true } },
        serverInfo: { name: "misbehaving", version: "1.0.0" },
      });
    case "tools/list": {
      if (mode === "badtools")
        return reply({ tools: [...tools(0, 1), { description: "no name", inputSchema: {} }] });
      if (mode === "badschema") {
        const broken = { name: "broken", inputSchema: { type: "object", properties: { n: { type: "no-such-type" } } } };
        return reply({ tools: [...tools(0, 1), broken] });
      }
      if (mode === "changes") return reply({ tools: tools(0, calls + 1) });
      if (mode === "paged") {
        const page = Number(m.params?.cursor ?? 0);
        if (page === 1) send({ jsonrpc: "2.0", method: "notifications/tools/list_changed" });
        return reply({ tools: tools(page * 2, 2), ...(page < 2 ? { nextCursor: String(page + 1) } : {}) });
      }
      return reply({ tools: tools(0, 2) });
    }
    case "tools/call":
      switch (mode) {
        case "garbage":
          return process.stdout.write("this is not JSON\n");
        case "die":
          process.stderr.write("panic: the tool broke\n", () => process.exit(1));
          return;
        case "slow":
          return;  // never answered
        case "huge":
          return reply({ content: [{ type: "text", text: "x".repeat(2 * 1024 * 1024) }] });
        case "badresult":
          return reply({ content: "not a list" });
        case "rich":
          return reply({
            content: [
              { type: "text", text: "a chart and its data" },
              { type: "image", data: "iVBORw0KGgoAAAANSUhEUg==", mimeType: "image/png" },
              { type: "resource_link", uri: "file:///data/q3.csv", name: "q3.csv", mimeType: "text/csv" },
              { type: "resource", resource: { uri: "file:///data/notes.txt", mimeType: "text/plain", text: "quarterly notes" } },
            ],
          });
        case "changes":
          calls += 1;
          send({ jsonrpc: "2.0", method: "notifications/tools/list_changed" });
          return reply({ content: [{ type: "text", text: `call ${calls}` }] });
        case "asks": {
          // Requests of the server's own before it answers: ping, and one nobody offered.
          send({ jsonrpc: "2.0", id: "p1", method: "ping" });
          send({ jsonrpc: "2.0", id: "s1", method: "sampling/createMessage", params: {} });
          const wait = setInterval(() => {
            if (!answers.has("p1") || !answers.has("s1")) return;
            clearInterval(wait);
            const ping = JSON.stringify(answers.get("p1").result);
            const sampling = answers.get("s1").error?.code;
            reply({ content: [{ type: "text", text: `ping ${ping} sampling ${sampling}` }] });
          }, 5);
          return;
        }
        default:
          return reply({
            content: [
              { type: "text", text: `called ${m.params.name} with ${JSON.stringify(m.params.arguments)}` },
            ],
            structuredContent: { name: m.params.name },
          });
      }
    default:
      return send({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "method not found" } });
  }
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const m = JSON.parse(line);
  if (m.method && m.id !== undefined) return onRequest(m);
  if (!m.method && m.id !== undefined) answers.set(m.id, m);
});
