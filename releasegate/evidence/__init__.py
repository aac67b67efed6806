"""The evidence model: measurements as suites hand them over, and the redactor that keeps the
run's secrets out of them. Below both the measuring tools and the criteria engine."""
