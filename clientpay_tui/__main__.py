"""``python -m clientpay_tui``."""

from clientpay_tui.cli import main

if __name__ == "__main__":
    main()
