"""Agent authentication: RFC 8628 device login, access/refresh tokens, scopes."""
