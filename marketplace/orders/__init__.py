"""Orders: scenario-bound licence requests, the seller's decision, checkout and payment events, fulfilment and
refunds, and the payment webhook endpoint. It sits above ``licensing`` (which it uses to issue and revoke
licences) and ``payments`` (which knows amounts and references, never orders)."""
