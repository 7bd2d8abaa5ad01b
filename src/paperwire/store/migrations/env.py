"""Alembic environment: the engine comes from paperwire.store.migrate."""

from alembic import context

from paperwire.store.tables import metadata

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
