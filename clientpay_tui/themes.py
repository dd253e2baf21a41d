"""The app's two themes. Screens use only the theme's variables, so either one (and any
Textual theme chosen from the palette, and NO_COLOR's monochrome) keeps every screen readable.

Colours keep a 4.5:1 contrast for text; red is kept for destructive actions and failures and
blue for the primary action, as in the original product.
"""

from __future__ import annotations

from textual.theme import Theme

DARK = Theme(
    name="clientpay-dark",
    primary="#3b82f6",
    secondary="#60a5fa",
    accent="#f59e0b",
    warning="#f59e0b",
    error="#ef4444",
    success="#22c55e",
    foreground="#e5e7eb",
    background="#111827",
    surface="#1f2937",
    panel="#273449",
    dark=True,
)

LIGHT = Theme(
    name="clientpay-light",
    primary="#1d4ed8",
    secondary="#2563eb",
    accent="#b45309",
    warning="#b45309",
    error="#b91c1c",
    success="#15803d",
    foreground="#111827",
    background="#f9fafb",
    surface="#ffffff",
    panel="#e5e7eb",
    dark=False,
)
