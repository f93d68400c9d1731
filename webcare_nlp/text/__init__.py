"""Text layer: normalisation, PII masking, language identification and the spaCy pipeline."""
