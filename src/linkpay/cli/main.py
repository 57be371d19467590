"""`link-cli` entry point.

`--version` is answered before anything heavy is imported (no pydantic, httpx2, rich,
mcp, yaml or toon), so agents probing the tool pay ~20 ms; everything else goes through
`linkpay.cli.app.run`.
"""

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:
        from linkpay import __version__

        sys.stdout.write(f"link-cli {__version__}\n")
        return 0
    from linkpay.cli.app import run

    return run(args)


def entry() -> None:  # pragma: no cover - console script shim
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
