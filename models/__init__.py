"""Models: NCF family (GMF, MLP, NeuMF), dot-product MF, LightGCN and a popularity baseline."""
