"""The card vault: AES-GCM envelope bound to the credential id, and fingerprints."""

import base64
import json
import secrets

import pytest

from linkpay.wallet.crypto import CardVault, VaultError, fingerprint

SECRETS = {"number": "4000001234567899", "cvc": "321", "exp_month": 4, "exp_year": 2031}


@pytest.fixture
def vault() -> CardVault:
    return CardVault(secrets.token_bytes(32))


def _flip(text: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw[0] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_round_trip(vault: CardVault) -> None:
    blob = vault.encrypt("ic_1", SECRETS)
    assert vault.decrypt("ic_1", blob) == SECRETS


def test_blob_holds_no_plaintext(vault: CardVault) -> None:
    blob = vault.encrypt("ic_1", SECRETS)
    assert "4000001234567899" not in blob and "cvc" not in blob
    # Fresh data key and nonce each time: equal secrets never give equal blobs.
    assert vault.encrypt("ic_1", SECRETS) != blob


def test_ciphertext_moved_to_another_credential_fails(vault: CardVault) -> None:
    blob = vault.encrypt("ic_1", SECRETS)
    with pytest.raises(VaultError):
        vault.decrypt("ic_2", blob)


@pytest.mark.parametrize("part", ["ct", "n", "wdek", "wn"])
def test_tampering_fails(vault: CardVault, part: str) -> None:
    parts = json.loads(vault.encrypt("ic_1", SECRETS))
    parts[part] = _flip(parts[part])
    with pytest.raises(VaultError):
        vault.decrypt("ic_1", json.dumps(parts))


def test_other_key_fails_and_error_names_no_secret(vault: CardVault) -> None:
    blob = vault.encrypt("ic_1", SECRETS)
    other = CardVault(secrets.token_bytes(32))
    with pytest.raises(VaultError) as caught:
        other.decrypt("ic_1", blob)
    assert "4000001234567899" not in str(caught.value)


@pytest.mark.parametrize("blob", ["", "not json", "{}", '{"v": 1}', '{"v": 9, "kid": "x"}'])
def test_malformed_blobs_raise_vault_error(vault: CardVault, blob: str) -> None:
    with pytest.raises(VaultError):
        vault.decrypt("ic_1", blob)


def test_rotation_rewraps_without_touching_the_sealed_secrets() -> None:
    old_key, new_key = secrets.token_bytes(32), secrets.token_bytes(32)
    blob = CardVault(old_key).encrypt("ic_1", SECRETS)
    rotating = CardVault(new_key, previous_keys=[old_key])
    assert rotating.decrypt("ic_1", blob) == SECRETS
    rewrapped = rotating.rewrap("ic_1", blob)
    assert json.loads(rewrapped)["ct"] == json.loads(blob)["ct"]
    assert CardVault(new_key).decrypt("ic_1", rewrapped) == SECRETS  # old key can go
    with pytest.raises(VaultError):
        CardVault(new_key).decrypt("ic_1", blob)


def test_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError):
        CardVault(b"short")


def test_repr_shows_no_key_material() -> None:
    key = secrets.token_bytes(32)
    assert key.hex() not in repr(CardVault(key))


def test_fingerprint_is_keyed_and_ignores_spacing() -> None:
    pepper = secrets.token_bytes(32)
    same = fingerprint(pepper, "4000 0012-3456 7899")
    assert same == fingerprint(pepper, "4000001234567899")
    assert len(same) == 64 and "4000001234567899" not in same
    assert fingerprint(secrets.token_bytes(32), "4000001234567899") != same
    assert fingerprint(pepper, "4000001234567881") != same
