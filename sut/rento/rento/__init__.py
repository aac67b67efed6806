"""Rento: rental management for landlords — buildings, rooms, renters, contracts, bills."""

__version__ = "1.0.0"
