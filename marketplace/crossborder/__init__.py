"""Cross-boundary rules: the position of a trade under the Mainland's rules on providing data outside it."""
