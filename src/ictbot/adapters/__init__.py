"""Adapters at the edges: exchanges, storage, files."""
