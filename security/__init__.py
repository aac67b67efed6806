"""Security data shipped with releasegate (as ``releasegate.security_data``): injection payloads,
the bundled advisory-database snapshot and the reference application's waivers file."""
