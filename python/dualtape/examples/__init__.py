"""Runnable examples: python -m dualtape.examples.NAME."""
