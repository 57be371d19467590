"""link-cli: the agent's command line and MCP server."""
