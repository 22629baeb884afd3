"""Licensing: licences with signed certificates, what they cover, and the gated downloads (orders issue them)."""
