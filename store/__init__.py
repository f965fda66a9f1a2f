"""The store: users, products, interactions (events), model versions and online metrics.

SQLAlchemy 2.0 typed models; PostgreSQL through psycopg 3 in production, SQLite as the embedded
default (same code). The schema is owned by Alembic migrations (`recsys db upgrade`).
"""
