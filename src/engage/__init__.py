"""engage: which engagement style and posting mix pays off for a business like mine, and why."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("engage-policy")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
