"""edgeser's own exceptions: each names the file or argument and the problem.

They subclass the built-in that fits (ValueError for bad content or arguments, OSError for files
that cannot be read, ImportError for a missing optional dependency), so callers that already catch
those keep working.
"""

from __future__ import annotations


class EdgeserError(Exception):
    """Base class of every error edgeser raises on purpose."""


class AudioError(EdgeserError, ValueError):
    """Audio that cannot be analysed: empty, NaN/Inf, wrong shape or a bad sample-rate argument."""


class AudioDecodeError(EdgeserError, OSError):
    """A file or byte string that is not readable audio (truncated, unknown format, missing)."""


class BundleError(EdgeserError, ValueError):
    """A model bundle that is corrupt, inconsistent or not a bundle at all."""


class BundleVersionError(BundleError):
    """A bundle written by a newer edgeser format than this runtime reads."""


class MissingDependencyError(EdgeserError, ImportError):
    """An optional dependency (an extra) that this operation needs is not installed."""
