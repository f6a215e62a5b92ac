"""Recur: subscription billing for resellers of cloud services."""
