"""edgeser: speech emotion recognition for small devices."""

__version__ = "0.1.0"
