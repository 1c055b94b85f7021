"""Manager reports: the admin dashboard, its tables and CSV exports, and the REST API.

Every figure comes from the apps' metric selectors (tickets.selectors, surveys.selectors); this package
only chooses the selection (period, filters), composes the figures, compares them with their targets and
renders them. The page and the API call the same composition (`supportdesk.reports.figures`).
"""
