"""Serving: the copy BI tools and analysts read, published only after the quality gate passed."""
