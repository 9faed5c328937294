"""Northwind's retrieval-augmented support assistant."""
