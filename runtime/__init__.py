"""The Presta-AX Bridge server on Ray: config, store, entity actors, Serve app, dispatcher, CLI."""

__version__ = "0.1.0"
__all__ = ["__version__"]
