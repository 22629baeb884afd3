"""A generated corpus for the personal-information scanner, and its measured precision and recall."""
