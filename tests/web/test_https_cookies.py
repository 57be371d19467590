"""Behind https the session cookie is `__Host-` prefixed and Secure (in-process app)."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient
from web_helpers import csrf_from

from linkpay.wallet import accounts
from linkpay.wallet.app import create_app
from linkpay.wallet.settings import Settings
from linkpay.wallet.store.db import transaction
from linkpay.wallet.store.migrations import upgrade_to_head
from linkpay.wallet.web.signin import create_signin_link


def test_session_cookie_is_secure_host_only_over_https(tmp_path: Path) -> None:
    settings = Settings.from_env(
        data_dir=tmp_path,
        public_url="https://wallet.example",
        database_url=f"sqlite:///{tmp_path / 'w.db'}",
    )
    upgrade_to_head(settings.database_url)
    app = create_app(settings)
    with transaction(app.state.sessionmaker) as s:
        user_id = accounts.create_user(s, email="owner@example.com").id
        link = create_signin_link(s, user_id, settings)
    assert link.startswith("https://wallet.example/signin/")
    with TestClient(app, base_url="https://wallet.example", follow_redirects=False) as client:
        page = client.get(link)
        answer = client.post(
            link,
            data={"csrf_token": csrf_from(page.text)},
            headers={"Origin": "https://wallet.example"},
        )
        assert answer.status_code == 303
        cookies = answer.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("__Host-linkpay_session="))
        lowered = session.lower()
        assert "secure" in lowered and "httponly" in lowered and "samesite=lax" in lowered
        assert "path=/" in lowered and "domain=" not in lowered
        assert client.get("/").status_code == 200
    app.state.engine.dispose()
