"""Reply suggestions: load template and article libraries, rank them for a message, fill them in."""
