"""Classify layer: the intent, sentiment, reactive and platform models, and the reply decision."""
