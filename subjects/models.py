"""Data subjects and the personal-data records internal systems register about them."""
