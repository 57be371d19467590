"""audit log: several hash chains

Revision ID: 0009_audit_chains
Revises: 0008_outbox
Create Date: 2026-11-30 10:00:00.000000

Every entry so far stays where it is: chain 1, `chain_seq` = `seq`, hashed as before.
Chains 2..16 start empty at the genesis hash. On PostgreSQL `seq` comes from the new
`audit_log_seq` sequence, starting after the last entry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009_audit_chains'
down_revision: str | None = '0008_outbox'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = '0' * 64
CHAINS = 16


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('chain_seq', sa.Integer(), nullable=True))
    op.execute('UPDATE audit_log SET chain_seq = seq')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.alter_column('chain_seq', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('uq_audit_log_prev_hash', type_='unique')
        batch_op.create_unique_constraint('uq_audit_log_chain_prev_hash', ['chain', 'prev_hash'])
        batch_op.create_unique_constraint('uq_audit_log_chain_seq', ['chain', 'chain_seq'])

    head = sa.table('audit_head', sa.column('id', sa.Integer), sa.column('seq', sa.Integer),
                    sa.column('hash', sa.String))
    op.bulk_insert(head, [{'id': chain, 'seq': 0, 'hash': GENESIS}
                          for chain in range(2, CHAINS + 1)])

    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        last = bind.execute(sa.text('SELECT coalesce(max(seq), 0) FROM audit_log')).scalar_one()
        op.execute(f'CREATE SEQUENCE audit_log_seq START WITH {int(last) + 1}')


def downgrade() -> None:
    bind = op.get_bind()
    moved = bind.execute(
        sa.text('SELECT count(*) FROM audit_log WHERE chain <> 1 OR chain_seq <> seq')
    ).scalar_one()
    if moved:
        raise RuntimeError(
            f'{moved} audit entries are outside the single chain of 0008; '
            'a downgrade would break the log'
        )
    if bind.dialect.name == 'postgresql':
        op.execute('DROP SEQUENCE audit_log_seq')
    op.execute('DELETE FROM audit_head WHERE id <> 1')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_log_chain_seq', type_='unique')
        batch_op.drop_constraint('uq_audit_log_chain_prev_hash', type_='unique')
        batch_op.create_unique_constraint('uq_audit_log_prev_hash', ['prev_hash'])
        batch_op.drop_column('chain_seq')
        batch_op.drop_column('chain')
