"""Frozen copies of readers as they were before a faster rewrite: the oracles the fast paths are held to."""
