"""The payer portal on the web: a Starlette app serving server-rendered Jinja2 pages.

Build it with :func:`~clientpay_tui.portal.web.app.create_app`; ``clientpay-tui portal`` runs
it under uvicorn (``server.py``). How to add a page: the docstring of ``app.py``.
"""

from __future__ import annotations

from clientpay_tui.portal.web.app import create_app

__all__ = ["create_app"]
