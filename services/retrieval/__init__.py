"""Candidate retrieval: exact top-C by inner product over the item matrix."""
