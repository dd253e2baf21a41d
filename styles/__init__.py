"""Textual stylesheets (.tcss), installed as package data of ``clientpay_tui.styles``."""
