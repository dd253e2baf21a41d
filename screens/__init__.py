"""Textual screens, one module per screen. Installed as ``clientpay_tui.screens``."""
