"""Agent API routes: device login, tokens, spend requests and the read-only resources."""
