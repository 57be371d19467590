"""`link-wallet signin-link`: a fresh one-time link into the wallet's web app, for
when the link `serve` printed was used or has expired."""

from __future__ import annotations

import smtplib
from typing import Any

from cyclopts import App

from linkpay.wallet.admin.context import AdminContext, AdminError


def register(app: App, ctx: AdminContext) -> None:
    @app.command(name="signin-link")
    def signin_link(
        *, email: str | None = None, send: bool = False, next: str | None = None
    ) -> dict[str, Any]:
        """Print a fresh one-use sign-in link (valid for LINKPAY_SIGNIN_LINK_TTL_SECONDS).

        Parameters
        ----------
        email
            Whose wallet (default: the owner, or the only person).
        send
            Also email the link to the person (needs LINKPAY_SMTP_HOST).
        next
            A page of the wallet to open after signing in, like /activity.
        """
        from linkpay.wallet import audit
        from linkpay.wallet.notify.mail import email_enabled
        from linkpay.wallet.web.signin import create_signin_link

        settings = ctx.settings()
        if next is not None and (not next.startswith("/") or next.startswith("//")):
            raise AdminError("INVALID_INPUT", "--next: a path of the wallet, like /activity")
        if send and not email_enabled(settings):
            raise AdminError(
                "EMAIL_OFF", "--send needs an email server: set LINKPAY_SMTP_HOST (and _FROM)"
            )
        with ctx.session() as db:
            user = ctx.resolve_user(db, email)
            url = create_signin_link(db, user.id, settings, next_path=next)
            audit.record_event(
                db,
                audit.events.SIGNIN_LINK_CREATED,
                actor=audit.events.OPERATOR,
                subject=user.id,
                user_id=user.id,
                data={"sent_by_email": send},
            )
            address = user.email
        result: dict[str, Any] = {
            "url": url,
            "user": address,
            "expires_in_minutes": int(settings.signin_link_ttl_seconds) // 60,
            "one_use": True,
        }
        if send:
            from linkpay.wallet.notify.mail import send_email

            try:
                send_email(
                    settings,
                    to=address,
                    subject="Sign in to your linkpay wallet",
                    text=f"Open this link to sign in (one use, expires in "
                    f"{result['expires_in_minutes']} minutes):\n\n{url}\n",
                )
            except (OSError, smtplib.SMTPException) as exc:
                raise AdminError(
                    "EMAIL_FAILED",
                    f"the link was created but could not be emailed ({type(exc).__name__}); "
                    "run again without --send to print one",
                ) from None
            result["sent_to"] = address
        from linkpay.public_url import loopback_note

        note = loopback_note(settings.public_url)
        if note:
            result["note"] = note
        return result
