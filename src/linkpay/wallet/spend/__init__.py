"""The spend service: the spend request lifecycle and every rule that governs it.

Import `linkpay.wallet.spend.service` (the functions the routes call). Modules, one
job each:

- `service`      create / update / request_approval / get / list (agent side) and the
                 re-exports other parts use;
- `decisions`    approve (hash-bound, issues the credential), deny, cancel, pause;
- `states`       the transition table and `transition()` (conditional UPDATE …
                 RETURNING + event + version bump) — the test network uses it too;
- `windows`      approval window / credential validity: effective status, lazy expiry;
- `validation`   rules that need the person's state (limit, pause, payment method);
- `duplicates`   429 for an identical request still awaiting the person;
- `idempotency`  `Idempotency-Key` claim / replay / 409 / 422;
- `serialize`    row → wire `SpendRequest` (credentials only when asked and bound);
- `longpoll`, `wakeups`, `after_commit`  `?wait=N` across processes, and side
                 effects (notifications, wake-ups) that run only after COMMIT.

The approval binding (`material_hash`) is `linkpay.wallet.binding`, below this package,
because the issuers check it too.
"""
