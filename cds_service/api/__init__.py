"""HTTP routes: discovery, service calls, feedback."""
