"""The MCP surface: tools, resources, prompts, the per-process context and the server that registers them."""
