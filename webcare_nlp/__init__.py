"""webcare-nlp: a Dutch-first reply-suggestion engine for webcare teams."""

__version__ = "0.1.0"

__all__ = ["__version__"]
