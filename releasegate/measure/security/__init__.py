"""Measuring tools of the security suite, one module per concern; findings use the one model in
releasegate.evidence.findings."""
