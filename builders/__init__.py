"""Builders: turn fields captured from a paper or plain-PDF invoice into a Factur-X e-invoice."""
