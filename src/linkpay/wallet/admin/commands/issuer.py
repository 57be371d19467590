"""`link-wallet issuer …`: connect a live card issuer (Stripe or Lithic), see its status,
disconnect it, reconcile its open cards with our records. Keys are stored sealed with
the card vault and never printed (status shows a hint such as `sk_test_…4242`)."""

from __future__ import annotations

from typing import Literal

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext, AdminError


def register(app: App, ctx: AdminContext) -> None:
    issuer = App(name="issuer", help="The live card issuer (Stripe or Lithic) behind credentials.")
    app.command(issuer)
    connect = App(name="connect", help="Connect Stripe or Lithic (replaces any connection).")
    issuer.command(connect)

    @connect.command(name="stripe")
    def connect_stripe(
        *,
        secret_key: str,
        webhook_secret: str | None = None,
        publishable_key: str | None = None,
    ) -> dict[str, object]:
        """Connect Stripe (Issuing cards and shared payment tokens).

        Parameters
        ----------
        secret_key
            The account's secret key: sk_test_… (test mode) or sk_live_… (live money).
        webhook_secret
            The signing secret (whsec_…) of the endpoint pointing at /webhooks/stripe.
        publishable_key
            pk_…: lets people save a real card with Stripe.js (for shared payment tokens).
        """
        return _connect(ctx, "stripe", secret_key, webhook_secret, None, publishable_key)

    @connect.command(name="lithic")
    def connect_lithic(
        *,
        api_key: str,
        environment: Literal["sandbox", "production"],
        webhook_secret: str,
    ) -> dict[str, object]:
        """Connect Lithic (single-use virtual cards, Auth Stream Access).

        Parameters
        ----------
        api_key
            The Lithic API key of the program.
        environment
            sandbox (test) or production (live money).
        webhook_secret
            The signing secret (whsec_…) of the ASA / event endpoint (/webhooks/lithic).
        """
        return _connect(ctx, "lithic", api_key, webhook_secret, environment, None)

    @issuer.command(name="status")
    def status() -> dict[str, object]:
        """Which issuer backs new credentials, its mode and where its webhooks go."""
        from linkpay.wallet.issuing import connections

        with ctx.session() as db:
            return connections.status(db, ctx.settings()).to_dict()

    @issuer.command(name="disconnect")
    def disconnect() -> dict[str, object]:
        """Stop using the live issuer: new requests get the test issuer again."""
        from linkpay.wallet.issuing import connections

        with ctx.session() as db:
            return {"disconnected": connections.disconnect(db)}

    @issuer.command(name="reconcile")
    def reconcile(*, grace_seconds: int = 300) -> dict[str, object]:
        """Close cards and tokens open at the issuer that our records do not hold usable.

        Parameters
        ----------
        grace_seconds
            Leave unknown cards younger than this alone (an approval may be in flight).
        """
        from linkpay.wallet.issuing import reconcile as reconciling

        with ctx.session() as db:
            return reconciling.reconcile(db, ctx.settings(), grace_seconds=grace_seconds).to_dict()


def _connect(
    ctx: AdminContext,
    provider: str,
    api_key: str,
    webhook_secret: str | None,
    environment: str | None,
    publishable_key: str | None,
) -> dict[str, object]:
    from linkpay.wallet.issuing import connections
    from linkpay.wallet.issuing.base import IssuingError

    try:
        with ctx.session() as db:
            connections.connect(
                db,
                ctx.settings(),
                provider=provider,
                api_key=api_key,
                webhook_secret=webhook_secret,
                environment=environment,
                publishable_key=publishable_key,
            )
    except connections.IssuerConfigError as error:
        raise AdminError("INVALID_INPUT", str(error)) from None
    except IssuingError as error:
        raise AdminError("ISSUER_ERROR", f"the key was not accepted: {error}") from None
    with ctx.session() as db:
        return connections.status(db, ctx.settings()).to_dict()
