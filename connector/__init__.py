"""Backorder Connector core: knows no platform."""
