"""``python -m engage.cli``: the same as the ``engage`` console command."""

from engage.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
