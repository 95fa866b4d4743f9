"""notebooks drafted by AI for a course's instructors (grader.service.drafts)

Revision ID: 0005_ai_drafts
Revises: 0004_tutor
"""

import sqlalchemy as sa
from alembic import op

revision = '0005_ai_drafts'
down_revision = '0004_tutor'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ai_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('assignment', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('notebook', sa.Text(), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_ai_drafts_course_id'), 'ai_drafts', ['course_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ai_drafts_course_id'), table_name='ai_drafts')
    op.drop_table('ai_drafts')
