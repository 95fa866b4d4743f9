"""Why a submission went to its instructor for review instead of being scored.

Revision ID: 0003_review_reason
Revises: 0002_lessons
"""

import sqlalchemy as sa
from alembic import op

revision = '0003_review_reason'
down_revision = '0002_lessons'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submission_results') as batch:
        batch.add_column(sa.Column('review_reason', sa.Text(), nullable=False,
                                   server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('submission_results') as batch:
        batch.drop_column('review_reason')
