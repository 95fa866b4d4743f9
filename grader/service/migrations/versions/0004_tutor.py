"""the AI tutor: policies, conversations and their messages, requests (usage)

Revision ID: 0004_tutor
Revises: 0003_review_reason
"""

import sqlalchemy as sa
from alembic import op

revision = '0004_tutor'
down_revision = '0003_review_reason'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tutor_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('assignment', sa.String(length=64), nullable=False),
    sa.Column('policy', sa.String(length=16), nullable=False),
    sa.Column('updated_by', sa.String(length=255), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('course_id', 'assignment')
    )
    op.create_table('tutor_conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('assignment', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('notebook', sa.String(length=255), nullable=False),
    sa.Column('cell', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_tutor_conversations_username', 'tutor_conversations', ['username'])
    op.create_table('tutor_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('withheld', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['tutor_conversations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_tutor_messages_conversation_id', 'tutor_messages', ['conversation_id'])
    op.create_table('tutor_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('assignment', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('notebook', sa.String(length=255), nullable=False),
    sa.Column('cell', sa.String(length=255), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('prompt_tokens', sa.Integer(), nullable=False),
    sa.Column('completion_tokens', sa.Integer(), nullable=False),
    sa.Column('cost', sa.Float(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_tutor_requests_course_id', 'tutor_requests', ['course_id'])
    op.create_index('ix_tutor_requests_username', 'tutor_requests', ['username'])
    op.create_index('ix_tutor_requests_created_at', 'tutor_requests', ['created_at'])


def downgrade() -> None:
    op.drop_table('tutor_requests')
    op.drop_table('tutor_messages')
    op.drop_table('tutor_conversations')
    op.drop_table('tutor_policies')
