"""Shared fixtures: real databases and a real wallet on a loopback port.

- `database_url`: module-scoped, parametrized `sqlite` (a fresh file) and `postgres` (a
  fresh `linkpay_t_<random>` database on LINKPAY_TEST_PG_URL, dropped afterwards), both
  already migrated to head (copied from a template migrated once per session). The
  postgres param is skipped when the server is unreachable, unless LINKPAY_REQUIRE_PG=1
  (CI), which turns that into a failure. `empty_database_url`: the same, unmigrated.
- `wallet`: module-scoped `EmbeddedWallet` on that database (migrated, serving HTTP).
- `wallet_factory`: `wallet_factory(**settings_overrides)` starts more wallets on the
  same database with other settings (e.g. `access_token_ttl_seconds=1`).
- `person`: a fresh user with a default test card (function scope, unique email).
- `agent_token`: a `wire.TokenResponse` for `person`, from the real device flow.
- `browser`: module-scoped headless Chromium (Debian's, driven by Playwright; the path
  can be changed with LINKPAY_CHROMIUM).
- Tests using `browser` or marked `tmux` skip when the tool is missing, or fail under
  LINKPAY_REQUIRE_BROWSER=1 / LINKPAY_REQUIRE_TMUX=1 (set by `.ci/run`).
- `fuzz_operations`: drives schemathesis over a list of API operations.
- `redis_url`: the Redis on LINKPAY_TEST_REDIS_URL (default redis://127.0.0.1:6379/0);
  tests using it skip when it does not answer, or fail under LINKPAY_REQUIRE_REDIS=1
  (CI). Tests keep to their own key prefix and delete only that.

Module scope keeps startup cheap; tests isolate themselves by creating their own person.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import serial_gate

# Our machines (and CI) set PYTHONDONTWRITEBYTECODE=1. scripts/setup byte-compiles the
# venv and src; this caches the rest (the test modules as pytest rewrites them, anything
# not compiled yet) in this process and in every Python process the suite starts
# (`link-wallet serve`, `link-cli`, the demo). The caches go to git-ignored __pycache__.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
_pg_reachable: bool | None = None


def pg_admin_url() -> str:
    return os.environ.get("LINKPAY_TEST_PG_URL", DEFAULT_PG_URL)


def _require_pg() -> bool:
    return os.environ.get("LINKPAY_REQUIRE_PG", "") not in ("", "0", "false")


def _check_pg() -> bool:
    global _pg_reachable
    if _pg_reachable is None:
        import psycopg

        try:
            with psycopg.connect(pg_admin_url(), connect_timeout=3):
                _pg_reachable = True
        except psycopg.Error:
            _pg_reachable = False
    return _pg_reachable


def _swap_database(url: str, name: str) -> str:
    base, _, _old = url.rpartition("/")
    return f"{base}/{name}"


def create_pg_database(template: str | None = None) -> str:
    """A fresh throw-away PostgreSQL database (a copy of `template` when given)."""
    import psycopg

    if not _check_pg():
        if _require_pg():
            pytest.fail(f"PostgreSQL unreachable at {pg_admin_url()} (LINKPAY_REQUIRE_PG=1)")
        pytest.skip(f"PostgreSQL unreachable at {pg_admin_url()}")
    name = f"linkpay_t_{secrets.token_hex(6)}"
    suffix = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    return _swap_database(pg_admin_url(), name)


def drop_pg_database(url: str) -> None:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _migrated_templates(tmp_path_factory: Any) -> Iterator[dict[str, str]]:
    """Databases migrated once per session; `database_url` hands out copies (a file
    copy for SQLite, `CREATE DATABASE … TEMPLATE` for PostgreSQL), which is much
    cheaper than running the migrations for every module."""
    templates: dict[str, str] = {}
    yield templates
    if "postgres" in templates:
        drop_pg_database(templates["postgres"])


def _template(kind: str, templates: dict[str, str], tmp_path_factory: Any) -> str:
    from linkpay.wallet.store.migrations import upgrade_to_head

    if kind not in templates:
        if kind == "sqlite":
            path = tmp_path_factory.mktemp("template") / "template.db"
            upgrade_to_head(f"sqlite:///{path}")
            templates[kind] = str(path)
        else:
            url = create_pg_database()
            upgrade_to_head(url)
            templates[kind] = url
    return templates[kind]


_DB_PARAMS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=_DB_PARAMS)
def database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: Any,
    _migrated_templates: dict[str, str],
) -> Iterator[str]:
    """A fresh database for this module, already migrated to head."""
    if request.param == "sqlite":
        template = _template("sqlite", _migrated_templates, tmp_path_factory)
        path: Path = tmp_path_factory.mktemp("db") / "wallet.db"
        shutil.copyfile(template, path)
        if Path(template + "-wal").exists():  # normally checkpointed away on close
            shutil.copyfile(template + "-wal", str(path) + "-wal")
        yield f"sqlite:///{path}"
        return
    if not _check_pg():
        create_pg_database()  # skips, or fails under LINKPAY_REQUIRE_PG=1
    template_url = _template("postgres", _migrated_templates, tmp_path_factory)
    url = create_pg_database(template=template_url.rpartition("/")[2])
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="module", params=_DB_PARAMS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[str]:
    """A fresh, empty (unmigrated) database: for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'empty.db'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="module")
def wallet(database_url: str) -> Iterator[Any]:
    from linkpay.wallet.embedded import start_embedded_wallet

    with start_embedded_wallet(database_url=database_url) as running:
        yield running


@pytest.fixture(scope="module")
def wallet_factory(database_url: str, wallet: Any) -> Iterator[Any]:
    """`wallet_factory(**settings_overrides) -> EmbeddedWallet` for tests that need
    other settings (short windows, small TTLs). Same database and the same keys (card
    key, pepper) as `wallet`, so either can read what the other wrote; every wallet
    started is stopped at the end of the module."""
    from linkpay.wallet.embedded import start_embedded_wallet

    started: list[Any] = []

    def make(**settings_overrides: Any) -> Any:
        overrides = {
            "card_key": wallet.settings.card_key,
            "pepper": wallet.settings.pepper,
            **settings_overrides,
        }
        running = start_embedded_wallet(database_url=database_url, settings_overrides=overrides)
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


@pytest.fixture
def person(wallet: Any) -> str:
    user_id: str = wallet.create_user(f"person-{secrets.token_hex(4)}@example.com", "Ada Lovelace")
    wallet.add_test_card(user_id)
    return user_id


@pytest.fixture
def agent_token(wallet: Any, person: str) -> Any:
    return wallet.agent_login(person)


CHROMIUM = os.environ.get("LINKPAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _required(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0", "false")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(serial_gate, "linkpay-serial-gate")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`@pytest.mark.only_database("postgres")` keeps a test to one of the two database
    parametrizations: the other is deselected at collection (counted as deselected,
    never shown as a skip), for tests whose subject exists on one database only."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("only_database")
        callspec = getattr(item, "callspec", None)
        kind = None
        if callspec is not None:
            kind = callspec.params.get("database_url", callspec.params.get("empty_database_url"))
        if marker is not None and kind is not None and kind != marker.args[0]:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests that need a system tool skip without it, or fail when CI demands the tool
    (`.ci/run` sets LINKPAY_REQUIRE_BROWSER=1 and LINKPAY_REQUIRE_TMUX=1, as it sets
    LINKPAY_REQUIRE_PG=1). Checked before any fixture starts."""
    missing: list[tuple[str, str]] = []
    if "browser" in getattr(item, "fixturenames", ()) and not os.path.exists(CHROMIUM):
        missing.append(
            (
                f"Debian's chromium is not installed at {CHROMIUM} (apt-get install -y chromium)",
                "LINKPAY_REQUIRE_BROWSER",
            )
        )
    if item.get_closest_marker("tmux") and shutil.which("tmux") is None:
        missing.append(("tmux is not installed (apt-get install -y tmux)", "LINKPAY_REQUIRE_TMUX"))
    for reason, variable in missing:
        if _required(variable):
            pytest.fail(f"{reason}; {variable}=1 makes this a failure", pytrace=False)
    if missing:
        pytest.skip(missing[0][0])


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis that answers PING (see the module docstring)."""
    import redis

    url = os.environ.get("LINKPAY_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3) as client:
            client.ping()
    except redis.RedisError as exc:
        reason = f"Redis unreachable at {url} ({type(exc).__name__})"
        if _required("LINKPAY_REQUIRE_REDIS"):
            pytest.fail(f"{reason}; LINKPAY_REQUIRE_REDIS=1 makes this a failure", pytrace=False)
        pytest.skip(reason)
    return url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never `playwright install`); tests using
    it skip or fail without it (see `pytest_runtest_setup`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def fuzz_operations() -> Callable[..., None]:
    """`fuzz_operations(operations, headers=..., max_examples=...)`: every schemathesis
    operation, in every generation mode, called and validated: no 5xx, status codes,
    content types and bodies as documented.

    `positive_data_acceptance` is off (some 400s come from rules a schema can't state)
    and so is `negative_data_rejection` ("invalid" query values often serialize to
    valid strings). schemathesis' pytest plugin (`from_fixture`) breaks under pytest 9,
    so each operation's hypothesis strategy is driven directly."""

    def fuzz(operations: list[Any], *, headers: dict[str, str], max_examples: int) -> None:
        import itertools

        from hypothesis import HealthCheck, given, settings
        from schemathesis.generation import GenerationMode
        from schemathesis.specs.openapi.checks import (
            negative_data_rejection,
            positive_data_acceptance,
        )

        excluded = [positive_data_acceptance, negative_data_rejection]
        for operation, mode in itertools.product(operations, GenerationMode):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=max_examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                case.call_and_validate(headers=headers, excluded_checks=excluded)

            check()

    return fuzz
