"""`link-cli` entry point.

`--version` and plain `--help` (no global options) are answered before anything else is
imported, so agents probing the tool pay ~20 ms; everything else goes through
`linkpay.cli.app.run` (which has fast paths of its own, see `cli/fast.py`) and turns a
Ctrl-C into `{code: INTERRUPTED}`. A Ctrl-C while that is still loading (nothing ran
yet) exits 130, the shell's convention for SIGINT, with nothing printed and no
traceback.
"""

import sys

SIGINT_EXIT_STATUS = 130  # 128 + SIGINT


def main(argv: list[str] | None = None) -> int:
    try:
        args = sys.argv[1:] if argv is None else list(argv)
        if args == ["--version"]:
            from linkpay import __version__

            sys.stdout.write(f"link-cli {__version__}\n")
            return 0
        from linkpay.cli.fast import answer_help

        if answer_help(args):  # declines any global option: run() strips those first
            return 0
        from linkpay import startup_gc
        from linkpay.cli.app import run

        if argv is None:
            startup_gc.console_script()
        try:
            return run(args)
        finally:
            startup_gc.before_exit()  # the exit need not walk every object (demo: ~0.2 s)
    except KeyboardInterrupt:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while exiting
        return SIGINT_EXIT_STATUS


def entry() -> None:  # pragma: no cover - console script shim
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
