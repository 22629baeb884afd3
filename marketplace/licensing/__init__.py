"""Licensing and purchase: scenario-bound orders, payments, licences with signed certificates, gated downloads."""
