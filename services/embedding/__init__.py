"""User vectors: trained LightGCN vectors, or folded in from recent interactions."""
