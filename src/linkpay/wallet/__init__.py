"""link-wallet: the self-hostable wallet server (agent API, approval app, test network)."""
