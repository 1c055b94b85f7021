"""manage.py rollups rebuild [--since DATE] | refresh: the report rollups from the source rows."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from rollups import services


class Command(BaseCommand):
    help = "Rebuild the report rollups from scratch (rebuild) or bring the marked days up to date (refresh)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        rebuild = sub.add_parser("rebuild", help="Rebuild every day from the source rows.")
        rebuild.add_argument("--since", help="First day to rebuild (YYYY-MM-DD, the desk's time zone).")
        sub.add_parser("refresh", help="Rebuild the days that changes marked.")

    def handle(self, *args, action, since=None, **options):
        if action == "refresh":
            done = services.refresh()
            self.stdout.write(f"refreshed {done['days']} days from {done['marks']} marks: {done['rows']} rows")
            return
        first = None
        if since:
            try:
                first = date.fromisoformat(since)
            except ValueError as error:
                raise CommandError(_("--since takes a day as YYYY-MM-DD, not %(value)s.") % {"value": since}) from error
        done = services.rebuild(since=first)
        self.stdout.write(f"rebuilt {done['days']} days ({done['first']} to {done['last']}): {done['rows']} rows")
