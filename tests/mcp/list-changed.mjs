// A stdio MCP server built on the official TypeScript SDK for the
// list_changed test (tests/mcp_list_changed.rs): it offers `first`, and the
// first call of `first` adds `second`, which makes the SDK send
// `notifications/tools/list_changed`.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";

const server = new McpServer(
  { name: "list-changed", version: "1.0.0" },
  { capabilities: { tools: { listChanged: true } } },
);
let added = false;
server.registerTool("first", { description: "Offered from the start" }, async () => {
  if (!added) {
    added = true;
    server.registerTool("second", { description: "Added by the first call" }, async () => ({
      content: [{ type: "text", text: "the second tool answered" }],
    }));
  }
  return { content: [{ type: "text", text: "the first tool answered" }] };
});
await server.connect(new StdioServerTransport());
