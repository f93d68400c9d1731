"""FAQ topic discovery: cluster recurring questions, label them, follow them over time."""
