"""One module per command group; every module here is imported by
`registry.load_commands()` and registers its commands with `@command(...)`."""
