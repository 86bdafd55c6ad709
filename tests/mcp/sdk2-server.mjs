// An MCP server over stdio built on the official TypeScript SDK's second major version
// (@modelcontextprotocol/server), with one tool, "shout", that upper-cases its text.
import { McpServer } from "@modelcontextprotocol/server";
import { StdioServerTransport } from "@modelcontextprotocol/server/stdio";
import * as z from "zod/v4";

const server = new McpServer({ name: "sdk2-server", version: "1.0.0" });
server.registerTool(
  "shout",
  { description: "Upper-cases a text", inputSchema: { text: z.string() } },
  async ({ text }) => ({ content: [{ type: "text", text: text.toUpperCase() }] }),
);
await server.connect(new StdioServerTransport());
