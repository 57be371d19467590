"""Shared FastAPI dependencies of the agent API.

`get_session` yields a Session inside one transaction: committed when the route
returns, rolled back if it raises. Use it through `SessionDep`, which ends the
transaction *before* the response is sent (`scope="function"`), so a client that reads
right after a write always sees it and a failed commit is an error, not a lost write.
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from linkpay.wallet.settings import Settings
from linkpay.wallet.store.db import transaction


def get_session(request: Request) -> Iterator[Session]:
    with transaction(request.app.state.sessionmaker) as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
