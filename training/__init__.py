"""Training library: data, models, evaluation, artifacts and the training CLI."""

__version__ = "0.1.0"
