"""Data service providers (数商) and the signed assessments they write of a submitted version."""
