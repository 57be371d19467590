"""`link-wallet`: run and administer a wallet from the shell.

Only parses arguments and delegates to the services (accounts, auth.device,
spend.service, network.merchants). Every command brings the database schema to head
first, so a fresh install needs no separate step. Errors are one line on stderr with
exit status 1, never a traceback; `--json` prints results as JSON for scripts.

    link-wallet serve --port 8765
    link-wallet user create --email ada@example.com --name "Ada Lovelace"
    link-wallet card add --test --email ada@example.com
    link-wallet device approve "maple-otter-violin"
    link-wallet approve lsrq_…
    link-wallet merchant create --name "Demo shop" --url http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from linkpay.wallet.settings import Settings


class AdminError(Exception):
    """A failure to report as one line (exit 1)."""


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for name in ("database_url", "host", "port", "public_url"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return Settings.from_env(**overrides)


def _prepare(settings: Settings) -> Any:
    """Migrate, then return a sessionmaker bound to the wallet's database."""
    from linkpay.wallet.app import open_store
    from linkpay.wallet.store.migrations import upgrade_to_head

    upgrade_to_head(settings.database_url)
    _engine, factory = open_store(settings)
    return factory


def _resolve_user(session: Any, settings: Settings, email: str | None) -> Any:
    """`--email`'s user; else the local owner; else the only user there is."""
    from sqlalchemy import select

    from linkpay.wallet import accounts
    from linkpay.wallet.store.models import User

    if email:
        user = accounts.find_user_by_email(session, email)
        if user is None:
            raise AdminError(f"no user with email {email}")
        return user
    owner = accounts.find_user_by_email(session, settings.owner_email)
    if owner is not None:
        return owner
    users = session.scalars(select(User).limit(2)).all()
    if len(users) == 1:
        return users[0]
    if not users:
        raise AdminError("no users yet; create one with `link-wallet user create --email …`")
    raise AdminError("several users exist; say which with --email")


# -- commands --------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> dict[str, Any] | None:
    import uvicorn

    from linkpay.wallet import accounts
    from linkpay.wallet.app import create_app
    from linkpay.wallet.store.db import transaction

    settings = _settings(args)
    factory = _prepare(settings)
    with transaction(factory) as session:
        owner = accounts.ensure_user(session, email=settings.owner_email, name=settings.owner_name)
        owner_id = owner.id
        from linkpay.wallet.web.signin import create_signin_link

        signin_url = create_signin_link(session, owner_id, settings)  # one use, short-lived
    _install_log_redaction()
    app = create_app(settings)
    print(
        f"link-wallet: serving {settings.public_url} (owner {settings.owner_email}, "
        f"{owner_id}); database {_safe_url(settings.database_url)}",
        file=sys.stderr,
    )
    print(
        f"link-wallet: sign in to your wallet (one use, expires in "
        f"{settings.signin_link_ttl_seconds // 60} min): {signin_url}",
        file=sys.stderr,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
    return None


def cmd_migrate(args: argparse.Namespace) -> dict[str, Any]:
    from linkpay.wallet.store.migrations import current_revision, upgrade_to_head

    settings = _settings(args)
    upgrade_to_head(settings.database_url)
    return {
        "database": _safe_url(settings.database_url),
        "revision": current_revision(settings.database_url),
    }


def cmd_user_create(args: argparse.Namespace) -> dict[str, Any]:
    from linkpay.wallet import accounts
    from linkpay.wallet.store.db import transaction

    settings = _settings(args)
    with transaction(_prepare(settings)) as session:
        user = accounts.create_user(session, email=args.email, name=args.name)
        return {"id": user.id, "email": user.email, "name": user.name}


def cmd_card_add(args: argparse.Namespace) -> dict[str, Any]:
    from linkpay.wallet import accounts
    from linkpay.wallet.store.db import transaction

    if not args.test:
        raise AdminError(
            "only test cards can be added from the shell: use --test "
            "(real cards are added in the wallet's web app)"
        )
    settings = _settings(args)
    with transaction(_prepare(settings)) as session:
        user = _resolve_user(session, settings, args.email)
        method = accounts.add_test_card(session, user_id=user.id)
        return {
            "id": method.id,
            "user": user.email,
            "card": f"{method.brand} •••• {method.last4}",
            "expires": f"{method.exp_month:02d}/{method.exp_year}",
            "default": method.is_default,
        }


def _spend_decision(args: argparse.Namespace, decide: str) -> dict[str, Any]:
    from linkpay.wallet.spend import service
    from linkpay.wallet.store.db import transaction
    from linkpay.wallet.store.models import SpendRequest

    settings = _settings(args)
    with transaction(_prepare(settings)) as session:
        row = session.get(SpendRequest, args.spend_request_id)
        if row is None:
            raise AdminError(f"no spend request {args.spend_request_id}")
        if decide == "approve":
            row = service.approve_spend_request(
                session, user_id=row.user_id, spend_request_id=row.id, settings=settings
            )
        else:
            row = service.deny_spend_request(session, user_id=row.user_id, spend_request_id=row.id)
        return {"id": row.id, "status": row.status, "amount": row.amount, "currency": row.currency}


def cmd_approve(args: argparse.Namespace) -> dict[str, Any]:
    return _spend_decision(args, "approve")


def cmd_deny(args: argparse.Namespace) -> dict[str, Any]:
    return _spend_decision(args, "deny")


def _device_decision(args: argparse.Namespace, decide: str) -> dict[str, Any]:
    from linkpay.wallet.auth import device
    from linkpay.wallet.store.db import transaction

    settings = _settings(args)
    with transaction(_prepare(settings)) as session:
        user = _resolve_user(session, settings, args.email)
        fn = device.approve_device_grant if decide == "approve" else device.deny_device_grant
        grant = fn(session, user_id=user.id, user_code=args.phrase)
        return {
            "status": grant.status,
            "user": user.email,
            "connection": grant.connection_label or grant.client_id,
            "scope": grant.scope,
        }


def cmd_device_approve(args: argparse.Namespace) -> dict[str, Any]:
    return _device_decision(args, "approve")


def cmd_device_deny(args: argparse.Namespace) -> dict[str, Any]:
    return _device_decision(args, "deny")


def cmd_merchant_create(args: argparse.Namespace) -> dict[str, Any]:
    from linkpay.wallet.network.merchants import create_merchant
    from linkpay.wallet.store.db import transaction

    settings = _settings(args)
    with transaction(_prepare(settings)) as session:
        merchant, api_key = create_merchant(session, name=args.name, url=args.url)
        return {
            "id": merchant.id,
            "name": merchant.name,
            "network_id": merchant.network_id,
            "api_key": api_key,
            "note": "the API key is shown only now; store it safely",
        }


# -- plumbing ----------------------------------------------------------------------------
def _install_log_redaction() -> None:
    try:
        from linkpay.wallet import logging as wallet_logging
    except ImportError:
        return
    install = getattr(wallet_logging, "install_redaction", None)
    if install is not None:
        install()


def _safe_url(url: str) -> str:
    """The database URL without a password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable database URL)"


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line and exit status 1, like every other failure."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        self.exit(1, f"{self.prog}: error: {message} (see --help)\n")


def _add_common_options(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    # On subcommands the defaults are suppressed so a value given before the command
    # (`link-wallet --json user create …`) is not reset by the subparser.
    default: Any = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--database-url",
        default=default,
        help="SQLAlchemy URL (default: LINKPAY_DATABASE_URL or SQLite in the data dir)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="print results as JSON",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="link-wallet", description="Run and administer a linkpay wallet.")
    _add_common_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, fn: Callable[..., Any], help_: str, parent: Any = sub) -> Any:
        p = parent.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=fn)
        _add_common_options(p)
        return p

    serve = command("serve", cmd_serve, "migrate, then serve the wallet over HTTP")
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8765)")
    serve.add_argument("--public-url", help="base URL for links (default http://HOST:PORT)")

    command("migrate", cmd_migrate, "bring the database schema to the newest version")

    user = sub.add_parser("user", help="manage people").add_subparsers(
        dest="user_command", required=True, metavar="ACTION"
    )
    create = command("create", cmd_user_create, "create a person", user)
    create.add_argument("--email", required=True)
    create.add_argument("--name")

    card = sub.add_parser("card", help="manage funding sources").add_subparsers(
        dest="card_command", required=True, metavar="ACTION"
    )
    add = command("add", cmd_card_add, "add a funding source", card)
    add.add_argument("--test", action="store_true", help="the test card 4242 4242 4242 4242")
    add.add_argument("--email", help="whose wallet (default: the owner)")

    for name, fn, help_ in (
        ("approve", cmd_approve, "approve a spend request as its person (issues the credential)"),
        ("deny", cmd_deny, "deny a spend request as its person"),
    ):
        p = command(name, fn, help_)
        p.add_argument("spend_request_id", metavar="ID")

    device = sub.add_parser("device", help="answer an agent's login request").add_subparsers(
        dest="device_command", required=True, metavar="ACTION"
    )
    for name, fn, help_ in (
        ("approve", cmd_device_approve, "let the agent showing PHRASE connect"),
        ("deny", cmd_device_deny, "refuse the agent showing PHRASE"),
    ):
        p = command(name, fn, help_, device)
        p.add_argument("phrase", metavar="PHRASE", help='e.g. "maple otter violin"')
        p.add_argument("--email", help="whose wallet (default: the owner)")

    merchant = sub.add_parser("merchant", help="test-network merchants").add_subparsers(
        dest="merchant_command", required=True, metavar="ACTION"
    )
    mcreate = command("create", cmd_merchant_create, "create a test-network merchant", merchant)
    mcreate.add_argument("--name", required=True)
    mcreate.add_argument("--url")
    return parser


def _print_result(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, default=str))
        return
    width = max(len(k) for k in result) if result else 0
    for key, value in result.items():
        print(f"{key.ljust(width)}  {value}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage error (1) or --help (0)
        return exc.code if isinstance(exc.code, int) else 1
    try:
        result = args.handler(args)
    except AdminError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line, never a traceback
        return _fail(_describe(exc))
    if result is not None:
        _print_result(result, args.json)
    return 0


def _describe(exc: Exception) -> str:
    from linkpay.wallet.errors import ApiException

    if isinstance(exc, ApiException):
        return exc.message
    if isinstance(exc, ValueError):
        return str(exc)
    try:
        from sqlalchemy.exc import OperationalError
    except ImportError:  # pragma: no cover
        OperationalError = ()  # type: ignore[assignment,misc]
    if isinstance(exc, OperationalError):
        return f"cannot use the database: {str(exc.orig).strip().splitlines()[0]}"
    if isinstance(exc, ImportError):
        return f"this wallet build lacks a part: {exc}"
    return f"unexpected {type(exc).__name__}: {exc}"


def _fail(message: str) -> int:
    print(f"link-wallet: error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
