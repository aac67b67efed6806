"""Security data shipped with releasegate (as ``releasegate.security_data``): payloads, canary
data and the reference application's waivers file."""
