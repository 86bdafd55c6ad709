// A client of `scaffold mcp` built on the official TypeScript SDK, as MCP hosts use it: lists
// the tools, calls "greet" (which finishes) with a progress callback and "approve" (which asks).
// Prints what it saw as one JSON object on stdout.
//
//   node sdk-client.mjs accept|none COMMAND ARGS...     (scaffold mcp over stdio)
//   node sdk-client.mjs accept|none --url URL [TOKEN]   (scaffold serve's /mcp)
//
// accept: declares elicitation and accepts every form with {approved: true};
// none:   declares no elicitation, so asks come back as pending.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const [, , elicit, command, ...args] = process.argv;
const out = { elicitations: [], progress: [] };
const capabilities = elicit === "accept" ? { elicitation: {} } : {};
const client = new Client({ name: "sdk-test", version: "1.0.0" }, { capabilities });
if (elicit === "accept") {
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    out.elicitations.push(request.params);
    return { action: "accept", content: { approved: true } };
  });
}
const transport =
  command === "--url"
    ? new StreamableHTTPClientTransport(new URL(args[0]), {
        requestInit: args[1] ? { headers: { Authorization: `Bearer ${args[1]}` } } : {},
      })
    : new StdioClientTransport({ command, args, env: process.env, stderr: "inherit" });
await client.connect(transport);
out.server = client.getServerVersion();
out.tools = (await client.listTools()).tools;
out.greet = await client.callTool({ name: "greet", arguments: { input: "Ada" } }, undefined, {
  onprogress: (p) => out.progress.push(p),
});
out.approve = await client.callTool({ name: "approve", arguments: { input: "v2" } });
try {
  await client.callTool({ name: "nope", arguments: {} });
} catch (e) {
  out.unknown = String(e.message);
}
await client.close();
console.log(JSON.stringify(out));
