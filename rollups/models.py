"""Per-day rollups of every report figure (metrics.md, "Exactness and freshness"), the marks of the days a change
made stale, and when they were last brought up to date."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Rollup(models.Model):
    """The additive figures of one source's rows of one day (in the desk's time zone) and one breakdown slice.

    A slice is the finest combination of the breakdown keys (inbox, channel kind, team, operator), so that any
    filter, and any two filters together, select whole rows. Each source attributes its rows its own way
    (metrics.md, per-operator attribution): "operator" is the first responder for tickets created, who resolved for
    tickets resolved, who held the conversation at its end, the author of a message, the invitation's operator.
    `data` holds counts and sums (numbers), histograms ("h:" keys), per-hour or per-band counts ("a:" keys, added
    element by element) and the instants of figures that depend on the time they are read ("p:" keys).
    """

    class Grain(models.TextChoices):
        DAY = "day", _("day")
        MONTH = "month", _("month")

    # A month's row adds up its days' rows (its `day` is the first of the month): a long period reads months.
    grain = models.CharField(_("grain"), max_length=5, choices=Grain.choices, default=Grain.DAY)
    day = models.DateField(_("day"))
    source = models.CharField(_("source"), max_length=12)
    # Which breakdown keys the row keeps (bits: 1 inbox, 2 channel kind, 4 team, 8 operator); the others are added
    # up. 15 is the finest slice, 0 the whole day or month of the source: a report reads the grouping of its filters
    # and breakdown, the fewest rows that answer it.
    grouping = models.PositiveSmallIntegerField(_("grouping"), default=15)
    inbox_id = models.IntegerField(_("inbox"), null=True)
    channel_kind = models.CharField(_("channel kind"), max_length=20, blank=True, default="")
    team_id = models.IntegerField(_("team"), null=True)
    operator_id = models.IntegerField(_("operator"), null=True)
    # The per-label sources only ("lconv", "lcreated", "lresponses"): the label the row's figures carry, None for
    # "no label". A row with two labels is in both labels' rows. None on every other source.
    label_id = models.IntegerField(_("label"), null=True)
    data = models.JSONField(_("figures"))

    class Meta:
        verbose_name = _("rollup")
        verbose_name_plural = _("rollups")
        indexes = [models.Index(fields=["source", "grain", "grouping", "day"], name="rollup_read_idx")]

    def __str__(self) -> str:
        return f"{self.source} {self.grain} {self.day}"


class RollupMark(models.Model):
    """A span whose days' rollups a change made stale, written by database triggers in the transaction of the
    change, whatever wrote it (a service, a bulk update, the admin). The refresh rebuilds those days and deletes the
    marks it read."""

    since = models.DateTimeField(_("from"))
    until = models.DateTimeField(_("until"))

    class Meta:
        verbose_name = _("rollup mark")
        verbose_name_plural = _("rollup marks")

    def __str__(self) -> str:
        return f"{self.since} – {self.until}"


class RollupState(models.Model):
    """One row: when the rollups were last brought up to date. Each refresh locks it first, so refreshes never
    interleave (a slow one could otherwise write an older copy of a day over a newer one)."""

    refreshed_at = models.DateTimeField(_("refreshed at"), null=True)
    rebuilt_at = models.DateTimeField(_("rebuilt from scratch at"), null=True)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup state")

    def __str__(self) -> str:
        return f"refreshed at {self.refreshed_at}"
