"""releasegate: decides whether a web service is ready for production."""

__version__ = "0.1.0"
