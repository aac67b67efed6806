"""Dynamic security probes: schema-driven fuzzing, injection, XSS and authorization traffic, and
the one inspection every error response of that traffic goes through."""
