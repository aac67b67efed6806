"""The security suite: static analysis, dependencies, the image and its containers, secrets and
personal data, and the dynamic probes of the running API. Every tool's output becomes findings
of the one model in releasegate.evidence.findings."""
