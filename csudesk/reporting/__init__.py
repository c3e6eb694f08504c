"""Reporting: the statistics of the dashboard, the ticket log and its CSV export.

Read-only queries over tickets, links and the audit trail; the supervision blueprint parses the
filters, calls these and renders.
"""
