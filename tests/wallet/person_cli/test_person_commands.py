"""`link-wallet` covers the person's actions: addresses, cards, profile, limits,
pause/resume, agents, activity, sign-in links and the audit log. Each command is run
with `--format json`, and with bad input giving `{code, message}` and exit 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from person_cli_helpers import Runner, fails, ok

from linkpay.public_url import LOOPBACK_NOTE


def test_addresses(run: Runner, someone: tuple[str, str], wallet: Any) -> None:
    _user, address = someone
    home = ok(
        run,
        "address",
        "add",
        "--name",
        "Grace Hopper",
        "--line1",
        "1 Navy Way",
        "--city",
        "Arlington",
        "--country",
        "us",
        "--postal-code",
        "22202",
        "--nickname",
        "Home",
        "--email",
        address,
    )
    assert home["is_default"] is True and home["address"]["country_code"] == "US"
    work = ok(
        run,
        "address",
        "add",
        "--name",
        "Grace Hopper",
        "--line1",
        "2 Yard St",
        "--city",
        "Boston",
        "--country",
        "US",
        "--email",
        address,
    )
    assert work["is_default"] is False
    edited = ok(
        run,
        "address",
        "edit",
        work["id"],
        "--line2",
        "Floor 3",
        "--nickname",
        "Office",
        "--email",
        address,
    )
    assert edited["address"]["line_2"] == "Floor 3" and edited["nickname"] == "Office"
    assert edited["address"]["locality"] == "Boston"  # untouched fields kept
    ok(run, "address", "default", work["id"], "--email", address)
    listed = ok(run, "address", "list", "--email", address)
    assert [a["id"] for a in listed] == [work["id"], home["id"]]
    assert listed[0]["is_default"] and not listed[1]["is_default"]
    ok(run, "address", "remove", work["id"], "--email", address)
    listed = ok(run, "address", "list", "--email", address)
    assert [(a["id"], a["is_default"]) for a in listed] == [(home["id"], True)]

    fails(
        run,
        "address",
        "add",
        "--name",
        "G",
        "--line1",
        "x",
        "--city",
        "y",
        "--country",
        "USA",
        "--email",
        address,
        code="invalid_request",
    )
    fails(
        run,
        "address",
        "add",
        "--name",
        "G",
        "--line1",
        "x",
        "--email",
        address,
        code="INVALID_INPUT",
    )  # --city and --country are required
    fails(
        run,
        "address",
        "add",
        "--name",
        "Grace Hopper",
        "--line1",
        "1 Navy Way",
        "--city",
        "Arlington",
        "--country",
        "US",
        "--postal-code",
        "22202",
        "--email",
        address,
        code="duplicate_address",
    )
    fails(run, "address", "remove", "shad_nope", "--email", address, code="not_found")
    fails(run, "address", "default", "shad_nope", "--email", address, code="not_found")
    fails(run, "address", "edit", "shad_nope", "--city", "x", "--email", address, code="not_found")
    fails(run, "address", "list", "--email", "nobody@example.com", code="NOT_FOUND")

    with wallet.http(wallet.agent_login(someone[0]).access_token) as client:
        seen = client.get("/shipping_addresses").json()["shipping_addresses"]
    assert [(a["id"], a["is_default"], a["nickname"]) for a in seen] == [(home["id"], True, "Home")]


def test_cards(run: Runner, someone: tuple[str, str]) -> None:
    _user, address = someone
    [visa] = ok(run, "card", "list", "--email", address)
    assert visa["card"].startswith("visa") and visa["default"] is True
    second = ok(run, "card", "add", "--test", "--email", address)
    assert second["card"].startswith("mastercard") and second["default"] is False
    fails(
        run,
        "card",
        "add",
        "--test",
        "--brand",
        "visa",
        "--email",
        address,
        code="duplicate_payment_method",
    )
    fails(
        run,
        "card",
        "add",
        "--test",
        "--brand",
        "diners",
        "--email",
        address,
        code="invalid_request",
    )
    assert ok(run, "card", "default", second["id"], "--email", address)["default"] is True
    listed = ok(run, "card", "list", "--email", address)
    assert [(c["id"], c["default"]) for c in listed] == [(second["id"], True), (visa["id"], False)]
    ok(run, "card", "remove", second["id"], "--email", address)
    listed = ok(run, "card", "list", "--email", address)
    assert [(c["id"], c["default"]) for c in listed] == [(visa["id"], True)]
    fails(run, "card", "remove", second["id"], "--email", address, code="not_found")
    fails(run, "card", "default", "csmrpd_nope", "--email", address, code="not_found")
    again = ok(run, "card", "add", "--test", "--brand", "mastercard", "--email", address)
    assert again["id"] != second["id"]  # a removed card may be added back


def test_card_in_use_cannot_be_removed(run: Runner, someone: tuple[str, str], wallet: Any) -> None:
    user_id, address = someone
    [visa] = ok(run, "card", "list", "--email", address)
    token = wallet.agent_login(user_id)
    with wallet.http(token.access_token) as client:
        created = client.post(
            "/spend_requests",
            json={
                "amount": 1200,
                "currency": "usd",
                "merchant_name": "Shop",
                "merchant_url": "https://shop.example",
                "context": "Buying a replacement laptop charger the person asked for this "
                "morning, shipped to their default address; the usual shop, price checked.",
                "request_approval": True,
            },
        )
    assert created.status_code in (200, 201), created.text
    fails(run, "card", "remove", visa["id"], "--email", address, code="payment_method_in_use")


def test_profile(run: Runner, someone: tuple[str, str]) -> None:
    _user, address = someone
    shown = ok(run, "profile", "show", "--email", address)
    assert shown["email"] == address and shown["billing_address"] is None
    changed = ok(
        run,
        "profile",
        "set",
        "--name",
        "Grace B. Hopper",
        "--phone",
        "+1 202 555 0100",
        "--billing-name",
        "Grace Hopper",
        "--billing-line1",
        "1 Navy Way",
        "--billing-city",
        "Arlington",
        "--billing-postal-code",
        "22202",
        "--billing-country",
        "US",
        "--email",
        address,
    )
    assert changed["first_name"] == "Grace" and changed["last_name"] == "B. Hopper"
    assert changed["billing_address"]["postal_code"] == "22202"
    fails(run, "profile", "set", "--phone", "call me", "--email", address, code="invalid_request")
    fails(
        run,
        "profile",
        "set",
        "--billing-country",
        "Narnia",
        "--email",
        address,
        code="invalid_request",
    )
    fails(
        run,
        "profile",
        "set",
        "--clear-billing-address",
        "--billing-city",
        "x",
        "--email",
        address,
        code="INVALID_INPUT",
    )
    fails(run, "profile", "set", "--email", address, code="invalid_request")  # nothing
    cleared = ok(run, "profile", "set", "--clear-billing-address", "--email", address)
    assert cleared["billing_address"] is None


def test_limits_pause_resume(run: Runner, someone: tuple[str, str]) -> None:
    _user, address = someone
    assert (
        ok(run, "limits", "set", "--max-per-request", "120.50", "--email", address)[
            "max_amount_per_request"
        ]
        == 12050
    )
    assert ok(run, "limits", "show", "--email", address)["max_per_request"] == "120.50"
    fails(
        run, "limits", "set", "--max-per-request", "lots", "--email", address, code="INVALID_INPUT"
    )
    fails(run, "limits", "set", "--max-per-request", "0", "--email", address, code="INVALID_INPUT")
    fails(run, "limits", "set", "--email", address, code="INVALID_INPUT")
    assert ok(run, "pause", "--email", address)["spending_paused"] is True
    assert ok(run, "resume", "--email", address)["spending_paused"] is False
    fails(run, "pause", "--email", "nobody@example.com", code="NOT_FOUND")
    fails(run, "resume", "--bogus", code="INVALID_INPUT")


def test_agents_and_activity(run: Runner, someone: tuple[str, str], wallet: Any) -> None:
    user_id, address = someone
    wallet.agent_login(user_id, connection_label="Claude Code on vm")
    [agent] = ok(run, "agents", "list", "--email", address)
    assert agent["label"] == "Claude Code on vm" and agent["purchases_asked"] == 0
    assert agent["revoked"] is False
    ok(run, "agents", "revoke", agent["id"], "--email", address)
    assert ok(run, "agents", "list", "--email", address) == []
    [gone] = ok(run, "agents", "list", "--all", "--email", address)
    assert gone["revoked"] is True
    fails(run, "agents", "revoke", "fam_nope", "--email", address, code="not_found")

    items = ok(run, "activity", "--email", address)
    kinds = [item["type"] for item in items]
    assert kinds[:2] == ["agent.revoked", "device.approved"]
    assert items[0]["who"] == "The shell (link-wallet)"
    assert "Claude Code on vm" in items[1]["what"] and items[1]["who"] == "You"
    older = ok(
        run, "activity", "--before", str(items[0]["seq"]), "--limit", "1", "--email", address
    )
    assert [i["seq"] for i in older] == [items[1]["seq"]]
    fails(run, "activity", "--limit", "0", "--email", address, code="INVALID_INPUT")
    fails(run, "activity", "--limit", "many", "--email", address, code="INVALID_INPUT")


def test_signin_link(run: Runner, someone: tuple[str, str], wallet: Any) -> None:
    _user, address = someone
    first = ok(run, "signin-link", "--email", address)
    assert first["url"].startswith(f"{wallet.settings.public_url}/signin/")
    assert first["one_use"] is True and first["note"] == LOOPBACK_NOTE
    second = ok(run, "signin-link", "--email", address, "--next", "/activity")
    assert second["url"] != first["url"] and second["url"].endswith("?next=/activity")
    with wallet.http() as client:
        page = client.get(first["url"])
    assert page.status_code == 200 and address in page.text  # the link is live
    fails(run, "signin-link", "--email", address, "--send", code="EMAIL_OFF")
    fails(
        run,
        "signin-link",
        "--email",
        address,
        "--next",
        "https://evil.example",
        code="INVALID_INPUT",
    )
    fails(run, "signin-link", "--email", "nobody@example.com", code="NOT_FOUND")


def test_audit_verify_and_export(run: Runner, someone: tuple[str, str], tmp_path: Path) -> None:
    _user, address = someone
    ok(run, "pause", "--email", address)
    verified = ok(run, "audit", "verify")
    assert verified["ok"] is True and verified["entries"] > 0
    target = tmp_path / "audit.jsonl"
    exported = ok(run, "audit", "export", "--output", str(target))
    assert exported["entries"] == verified["entries"]
    assert target.stat().st_mode & 0o777 == 0o600
    from_file = ok(run, "audit", "verify", "--file", str(target))
    assert from_file["head_hash"] == verified["head_hash"]

    code, out, _ = run("audit", "export")
    assert code == 0 and len(out.splitlines()) >= exported["entries"]

    lines = target.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["actor"] = "person:mallory"
    lines[1] = json.dumps(entry)
    target.write_text("\n".join(lines) + "\n")
    broken = fails(run, "audit", "verify", "--file", str(target), code="AUDIT_BROKEN")
    assert broken["message"].startswith(f"entry {entry['seq']}:")
    fails(run, "audit", "verify", "--file", str(tmp_path / "missing.jsonl"), code="INVALID_INPUT")
    fails(
        run, "audit", "export", "--output", str(tmp_path / "no" / "dir.jsonl"), code="INVALID_INPUT"
    )
    fails(run, "audit", "frobnicate", code="INVALID_INPUT")
