"""Data: public-format loaders, the synthetic generator, filtering, splits and samplers."""
