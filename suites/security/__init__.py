"""The security suite: static analysis, dependencies, secrets and hardening, and the dynamic
probes (fuzzing, injection, XSS, authorization) against the running stack."""
