"""The spend service: the spend request lifecycle and every rule that governs it."""
