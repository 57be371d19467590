"""issuing.service against a real SQLite store (no HTTP): issue, reveal, void."""

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from linkpay.cards import luhn_valid
from linkpay.wallet.binding import material_hash
from linkpay.wallet.crypto import fingerprint
from linkpay.wallet.ids import new_id
from linkpay.wallet.issuing import service
from linkpay.wallet.settings import Settings
from linkpay.wallet.store.db import make_engine, make_sessionmaker
from linkpay.wallet.store.models import Base, Credential, ShippingAddress, SpendRequest, User


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(
        data_dir=tmp_path, card_key=secrets.token_bytes(32), pepper=secrets.token_bytes(32)
    )


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'unit.db'}")
    Base.metadata.create_all(engine)
    with make_sessionmaker(engine)() as s, s.begin():
        yield s
    engine.dispose()


def approved_request(session: Session, *, kind: str = "card", amount: int = 2500) -> SpendRequest:
    user = session.get(User, "usr_unit") or User(id="usr_unit", email="u@example.com", name="Ada")
    session.add(user)
    session.flush()
    row = SpendRequest(
        id=new_id("lsrq"),
        user_id=user.id,
        status="approved",
        credential_type=kind,
        network_id="profile_x" if kind != "card" else None,
        amount=amount,
        currency="usd",
        merchant_name="Shop" if kind == "card" else None,
        merchant_url="https://shop.example/cart" if kind == "card" else None,
        context="x" * 100,
        line_items=[],
        totals=[],
    )
    row.approval_hash = material_hash(row)
    session.add(row)
    session.flush()
    return row


def test_issue_card_is_idempotent_and_sealed(session: Session, settings: Settings) -> None:
    row = approved_request(session)
    first = service.issue_credential(session, row, settings=settings)
    again = service.issue_credential(session, row, settings=settings)
    assert again.id == first.id and first.id.startswith("ic_")
    assert session.scalars(select(Credential)).all() == [first]
    assert first.status == "active" and first.max_amount == 2500 and first.currency == "usd"
    assert first.approval_hash == row.approval_hash
    assert row.credential_valid_until == first.valid_until
    card = service.reveal_card(session, row, settings=settings)
    assert card is not None and luhn_valid(card.number) and card.number.endswith(first.last4)
    assert card.number not in (first.secret_ciphertext or "")
    assert first.number_fingerprint == fingerprint(settings.pepper, card.number)
    assert card.billing_address is not None and card.billing_address.name == "Ada"


def test_billing_address_from_default_shipping_address(
    session: Session, settings: Settings
) -> None:
    row = approved_request(session)
    session.add(
        ShippingAddress(
            id="shad_1",
            user_id=row.user_id,
            is_default=True,
            address={
                "name": "Ada L",
                "line_1": "1 Main St",
                "locality": "Springfield",
                "administrative_area": "IL",
                "postal_code": "62701",
                "country_code": "US",
            },
        )
    )
    service.issue_credential(session, row, settings=settings)
    card = service.reveal_card(session, row, settings=settings)
    assert card is not None and card.billing_address is not None
    assert (card.billing_address.line1, card.billing_address.postal_code) == ("1 Main St", "62701")


def test_valid_until_capped_by_request_deadline(session: Session, settings: Settings) -> None:
    row = approved_request(session)
    row.expires_at = datetime.now(UTC) + timedelta(minutes=5)
    credential = service.issue_credential(session, row, settings=settings)
    assert credential.valid_until == row.expires_at


def test_numbers_unique_and_collisions_retried(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linkpay.wallet.issuing import test_issuer

    first = service.issue_credential(session, approved_request(session), settings=settings)
    taken = service.reveal_card(
        session, session.get(SpendRequest, first.spend_request_id), settings=settings
    )
    assert taken is not None
    fresh = test_issuer.generate_card_number()
    draws = iter([taken.number, taken.number, fresh])
    monkeypatch.setattr(test_issuer, "generate_card_number", lambda *_a: next(draws))
    row = approved_request(session)
    second = service.issue_credential(session, row, settings=settings)
    card = service.reveal_card(session, row, settings=settings)
    assert card is not None and card.number == fresh and second.id != first.id


def test_reveal_refused_unless_usable(session: Session, settings: Settings) -> None:
    row = approved_request(session)
    credential = service.issue_credential(session, row, settings=settings)
    assert service.reveal_card(session, row, settings=settings) is not None
    row.amount = 9999  # an edit after approval: the material hash no longer matches
    assert service.reveal_card(session, row, settings=settings) is None
    row.amount = 2500
    row.approval_hash = "0" * 64  # the request was re-approved for something else
    assert service.reveal_card(session, row, settings=settings) is None
    row.approval_hash = credential.approval_hash
    row.status = "succeeded"
    assert service.reveal_card(session, row, settings=settings) is None
    row.status = "approved"
    credential.valid_until = datetime.now(UTC) - timedelta(seconds=1)
    assert service.reveal_card(session, row, settings=settings) is None


def test_void_shreds_and_blocks_reveal(session: Session, settings: Settings) -> None:
    row = approved_request(session)
    credential = service.issue_credential(session, row, settings=settings)
    service.void_credentials(session, row.id)
    session.refresh(credential)
    assert credential.status == "voided" and credential.secret_ciphertext is None
    assert credential.last4 and credential.exp_year  # display data stays
    assert service.reveal_card(session, row, settings=settings) is None
    service.void_credentials(session, row.id)  # idempotent


def test_shared_payment_token(session: Session, settings: Settings) -> None:
    row = approved_request(session, kind="shared_payment_token")
    credential = service.issue_credential(session, row, settings=settings)
    assert credential.id.startswith("spt_") and credential.network_id == "profile_x"
    assert credential.secret_ciphertext is None and credential.number_fingerprint is None
    token = service.shared_payment_token(session, row)
    assert token is not None and token.id == credential.id and token.valid_until
    assert service.reveal_card(session, row, settings=settings) is None
    service.void_credentials(session, row.id)
    assert service.shared_payment_token(session, row) is None


def test_issue_needs_an_approval_hash(session: Session, settings: Settings) -> None:
    row = approved_request(session)
    row.approval_hash = None
    with pytest.raises(service.IssuingError):
        service.issue_credential(session, row, settings=settings)


def test_expire_credentials_shreds_only_expired(session: Session, settings: Settings) -> None:
    live = service.issue_credential(session, approved_request(session), settings=settings)
    stale = service.issue_credential(session, approved_request(session), settings=settings)
    stale.valid_until = datetime.now(UTC) - timedelta(seconds=1)
    session.flush()
    assert service.expire_credentials(session) == 1
    session.refresh(live)
    session.refresh(stale)
    assert stale.status == "expired" and stale.secret_ciphertext is None
    assert live.status == "active" and live.secret_ciphertext
    assert service.expire_credentials(session) == 0
