"""Feature layer: turns processed texts and their channel and platform into one sparse matrix."""
