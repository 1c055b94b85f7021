from django.core.management.base import BaseCommand

from supportdesk.demo import MANAGER, OPERATORS, create_demo


class Command(BaseCommand):
    help = "Creates the demo team, operators, manager and inboxes (idempotent); --history N adds N past conversations."

    def add_arguments(self, parser):
        parser.add_argument(
            "--history",
            type=int,
            default=0,
            metavar="N",
            help="also generate N past conversations with tickets, messages, events and survey answers",
        )

    def handle(self, *args, history: int, **options):
        create_demo()
        for login in [MANAGER, *OPERATORS]:
            self.stdout.write(f"  {login.role:<26} {login.username} / {login.password}")
        if history:
            from rollups.services import rebuild
            from supportdesk.history import generate_history

            generate_history(history, stdout=self.stdout)
            # The history is written in bulk: its rollups are built once, rather than day by day from its marks.
            done = rebuild()
            self.stdout.write(f"  report rollups: {done['days']} days, {done['rows']} rows")
