"""The person's approval app: sign-in, device approval, spend approval, wallet pages.

Pages (all server-rendered; approving and denying work without JavaScript):

    /signin, /signin/<token>   owner link printed by `link-wallet serve`, email links,
                               email + password, passkeys (WebAuthn)
    /device?code=…             approve or deny an agent's device login by its phrase
    /approve/<lsrq_…>          the approval page: server-verified facts only, the agent's
                               context as quoted untrusted text, Approve/Deny bound to the
                               approval hash that was shown
    /, /activity, /agents, /payment-methods, /limits, /notifications, /security

For tests and embedding, mint an owner sign-in link with
`linkpay.wallet.web.signin.create_signin_link(session, user_id, settings)` (commit the
session, then open the URL).

Settings (environment, see `linkpay.wallet.settings.Settings`):

    LINKPAY_PUBLIC_URL                 base of every link (https → Secure `__Host-` cookies)
    LINKPAY_WEB_SESSION_TTL_SECONDS    web session lifetime (default 14 days)
    LINKPAY_SIGNIN_LINK_TTL_SECONDS    one-time sign-in links (default 15 minutes)
    LINKPAY_SMTP_HOST / _PORT / _TLS (starttls|ssl|none) / _USER / _PASSWORD / _FROM
                                       email notifications and email sign-in links
    LINKPAY_VAPID_SUBJECT              `sub` claim of web push (keys: data_dir/vapid_private.pem)
    LINKPAY_NOTIFY_URLS                operator-wide apprise URLs (space separated)
    LINKPAY_NOTIFY_RETRY_SECONDS       retry delays of a failing channel (default "2,10,60")
"""
