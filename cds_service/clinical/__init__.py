"""Clinical stage: patient data × rules → cards (pure, no I/O)."""
