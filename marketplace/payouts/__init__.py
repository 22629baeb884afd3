"""Paying sellers: payout accounts (Stripe Connect), destination charges, and the payout run (see ``services``)."""
