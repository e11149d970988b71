"""The dev/prod boundary matrix (docs/boundary-matrix.yaml) and its rendered forms."""
