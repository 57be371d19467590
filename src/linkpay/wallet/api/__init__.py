"""Agent API routes (agent-api.md §1–2)."""
