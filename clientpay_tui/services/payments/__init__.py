"""Payments: the gateway interface and its test gateway, wallets, paying invoices, history.

No web or UI imports: the portal's pages and the staff app's tabs call these services.
"""
