"""The link-cli SDK: a typed client for the agent API."""
