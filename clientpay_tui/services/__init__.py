"""The service layer: every rule and transaction of the product, with no user interface.

Screens, the command line and the portal functions call it; it raises the domain errors of
:mod:`clientpay_tui.errors`. Start from :class:`clientpay_tui.services.facade.Services`.
"""
