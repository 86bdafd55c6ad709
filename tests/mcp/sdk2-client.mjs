// A client of `scaffold mcp` built on the official TypeScript SDK's second major version
// (@modelcontextprotocol/client): lists the tools and calls "greet". Prints what it saw as one
// JSON object.
//
//   node sdk2-client.mjs COMMAND ARGS...
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

const [, , command, ...args] = process.argv;
const client = new Client({ name: "sdk2-test", version: "1.0.0" }, { capabilities: {} });
await client.connect(new StdioClientTransport({ command, args, env: process.env, stderr: "inherit" }));
const out = { version: client.getNegotiatedProtocolVersion?.() ?? null };
out.tools = (await client.listTools()).tools.map((t) => t.name);
out.greet = await client.callTool({ name: "greet", arguments: { input: "Bo" } });
await client.close();
console.log(JSON.stringify(out));
