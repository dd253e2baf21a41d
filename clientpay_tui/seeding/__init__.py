"""Seeding: bulk synthetic firm data (``clientpay-tui seed``) and the demo's story data.

Above the services it uses (contexts, audit, validation, passwords and tokens); only the
command line imports it.
"""
