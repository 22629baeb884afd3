"""Compliance review: cases, checklist, pre-screen."""
