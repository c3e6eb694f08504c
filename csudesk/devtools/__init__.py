"""Tools for the tests and the bench, never imported by the app: throwaway servers they start.

They live in the package so that tests/ and bench/ share them without importing each other.
"""
