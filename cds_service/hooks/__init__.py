"""CDS Hooks 2.0 wire models: requests, hook contexts, cards, discovery and feedback."""
