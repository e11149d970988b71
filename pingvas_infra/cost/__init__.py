"""The priced plan: what the stack costs, line by line, against the seed's designs."""
