"""The tamper-evident audit log: an append-only, hash-chained record of what happened
in the wallet and who did it (devices approved, agents revoked, purchases decided,
credentials revealed, charges, issuer and policy decisions, limit changes, sign-ins).

    from linkpay.wallet import audit
    audit.record_event(db, audit.events.AGENT_REVOKED,
                       actor=audit.events.person(user_id), subject=family_id,
                       user_id=user_id, data={"label": label})

The event is written when `db`'s transaction commits, together with the change it
describes. `verify(db)` names the first broken entry; `export_jsonl` writes a copy that
`verify_entries(read_jsonl(...))` can check anywhere.
"""

from linkpay.wallet.audit import events
from linkpay.wallet.audit.chain import GENESIS, entry_hash
from linkpay.wallet.audit.query import entries_for_subject, entries_for_user
from linkpay.wallet.audit.record import append_pending, record_event
from linkpay.wallet.audit.verify import (
    VerifyResult,
    export_jsonl,
    iter_entries,
    read_jsonl,
    verify,
    verify_entries,
)

__all__ = [
    "GENESIS",
    "VerifyResult",
    "append_pending",
    "entries_for_subject",
    "entries_for_user",
    "entry_hash",
    "events",
    "export_jsonl",
    "iter_entries",
    "read_jsonl",
    "record_event",
    "verify",
    "verify_entries",
]
