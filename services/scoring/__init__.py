"""NCF scoring: NeuMF (or GMF/MLP/MF) scores for one user's candidates in one forward pass."""
