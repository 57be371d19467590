"""spend requests: an index for one agent's creates in a window

Revision ID: 0010_agent_creates_index
Revises: 0009_audit_chains
Create Date: 2026-11-30 15:30:00.000000

`(user_id, token_family_id, created_at)`: the policy's per-agent create counts and
duplicate protection read one agent's recent rows from the index alone, instead of
every active or recent request of the person.
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0010_agent_creates_index'
down_revision: str | None = '0009_audit_chains'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('spend_requests', schema=None) as batch_op:
        batch_op.create_index(
            'ix_spend_requests_user_family_created',
            ['user_id', 'token_family_id', 'created_at'],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table('spend_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_spend_requests_user_family_created')
