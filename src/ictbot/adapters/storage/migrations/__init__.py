"""Alembic migrations shipped with the package (run by ``ictbot.adapters.storage.migrate``)."""
