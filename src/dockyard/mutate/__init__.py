"""Lazy transforms Image -> Image: append layers, change the config, annotate, canonicalize."""
