"""Training library: data loading and splits, the training loop, evaluation and writing artifacts."""
