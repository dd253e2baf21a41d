"""Alembic migrations, shipped inside the package (``clientpay_tui.db:migrations``)."""
