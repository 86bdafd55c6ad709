// An MCP server over Streamable HTTP that goes wrong on purpose in tools/call, one way per mode
// (argv[2]), for the failure cases of scaffold's HTTP transport. Prints "PORT <n>" once it
// listens on 127.0.0.1.
//
// Modes: stream (the answer as an SSE stream, a notification first), break (the stream breaks
// before the response; resuming with Last-Event-ID gets it), error500, expire (404: the session
// is gone), big (an answer past any small cap).
import http from "node:http";

const mode = process.argv[2] || "stream";
const session = "session-1";
const after = new Map();  // event id -> the message that followed it
let resumptions = 0;
const reply = (id, result) => JSON.stringify({ jsonrpc: "2.0", id, result });

const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    if (req.method === "DELETE") return res.writeHead(200).end();
    if (req.method === "GET") {
      const last = req.headers["last-event-id"];
      resumptions += 1;
      if (!after.has(last)) return res.writeHead(404).end();
      res.writeHead(200, { "content-type": "text/event-stream" });
      return res.end(`id: ${last}-next\ndata: ${after.get(last)}\n\n`);
    }
    const m = JSON.parse(body);
    if (m.method === "initialize") {
      res.writeHead(200, { "content-type": "application/json", "mcp-session-id": session });
      return res.end(reply(m.id, {
        protocolVersion: "2025-11-25",
        capabilities: { tools: {} },
        serverInfo: { name: "misbehaving-http", version: "1.0.0" },
      }));
    }
    if (req.headers["mcp-session-id"] !== session) return res.writeHead(400).end("no session id");
    if (req.headers["mcp-protocol-version"] !== "2025-11-25") return res.writeHead(400).end("no version");
    if (m.id === undefined || m.method === undefined) return res.writeHead(202).end();
    if (m.method === "tools/list") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(reply(m.id, { tools: [{ name: "tool0", inputSchema: { type: "object" } }] }));
    }
    const result = reply(m.id, { content: [{ type: "text", text: `${mode} after ${resumptions}` }] });
    switch (mode) {
      case "error500":
        return res.writeHead(500).end("boom");
      case "expire":
        return res.writeHead(404).end("session expired");
      case "big":
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(reply(m.id, { content: [{ type: "text", text: "x".repeat(100000) }] }));
      case "break": {
        res.writeHead(200, { "content-type": "text/event-stream" });
        after.set("e1", result);
        res.write(`id: e1\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "working" } })}\n\n`);
        return setTimeout(() => res.destroy(), 50);
      }
      default:
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(`data: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/tools/list_changed" })}\n\n`);
        return res.end(`data: ${result}\n\n`);
    }
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`PORT ${server.address().port}\n`));
