"""The priced plan: what the stack costs, line by line, against the design guide's designs."""
