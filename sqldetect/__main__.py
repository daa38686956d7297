"""Allow ``python -m sqldetect`` (same as the ``sqldetect`` console script)."""

from sqldetect.cli import entry

entry()
