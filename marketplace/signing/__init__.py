"""The platform's Ed25519 signing keys: the current one signs licence certificates and audit checkpoints; retired
public keys stay published so that what they signed still verifies."""
