"""Durable background jobs: an outbox table (`outbox`) and the worker that runs it
(`worker`). A job is written in the same transaction as the change that causes it, so
it exists exactly when that change committed; workers in any process or host claim it
under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on SQLite), run
it, and record the outcome fenced by their lease token."""
