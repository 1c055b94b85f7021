"""REST API of the reports: the dashboard's figures from the same composition, for staff with the permission.

Query parameters are the dashboard's (period, start, end, inbox, channel_kind, team, operator; repeat a
parameter to select several). Invalid ones answer 400 with the reason per parameter.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from supportdesk.reports import figures
from supportdesk.reports.query import EARLIEST_DAY, LATEST_DAYS_AHEAD, MAX_DAYS, PRESETS, ReportForm, ReportQuery
from supportdesk.reports.views import PERMISSION


class HasReportsPermission(BasePermission):
    message = "Reports are for staff with the reports permission."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm(PERMISSION))


# Every key of a figure row (see figures.figure_rows), in a stable order.
FIGURE_KEYS = [
    "requested",
    "answered",
    "frt_mean",
    "frt_median",
    "frt_p90",
    "frt_business_mean",
    "frt_business_median",
    "frt_business_p90",
    "frt_count",
    "wait_median",
    "resolution_mean",
    "resolution_median",
    "resolution_p90",
    "resolution_business_mean",
    "resolution_business_median",
    "resolution_business_p90",
    "sla_first_response",
    "sla_resolution",
    "fcr",
    "fcr_awaiting",
    "fcr_eligible",
    "abandonment",
    "abandonment_wait",
    "abandoned",
    "missed",
    "transfer_rate",
    "transferred",
    "canned_share",
    "tickets_created",
    "tickets_resolved",
    "csat",
    "csat_mean",
    "csat_mean_by_scale",
    "ces_mean",
    "ces_mean_by_scale",
    "ces_easy",
    "nps",
    "response_rate",
    "survey_responses",
    "surveys_sent",
    "online_seconds",
    "occupancy",
    "concurrency",
    "cost_per_conversation",
]


def _figure_fields() -> dict:
    fields: dict[str, serializers.Field] = {}
    for key in FIGURE_KEYS:
        if key.endswith("_by_scale"):
            fields[key] = serializers.DictField(child=serializers.FloatField(), help_text="mean per scale")
        elif key in COUNT_KEYS:
            fields[key] = serializers.IntegerField()
        else:
            figure = figures.FIGURES_BY_KEY.get(key)
            unit = figure.unit if figure else "seconds"
            fields[key] = serializers.FloatField(allow_null=True, help_text=f"{unit}; null when nothing was measured")
    return fields


COUNT_KEYS = {
    "requested",
    "answered",
    "frt_count",
    "fcr_awaiting",
    "fcr_eligible",
    "abandoned",
    "missed",
    "transferred",
    "tickets_created",
    "tickets_resolved",
    "survey_responses",
    "surveys_sent",
}


class PartField(serializers.FloatField):
    """A count stays a whole number; seconds and costs (operators' time) keep their fraction."""

    def to_representation(self, value):
        return value if isinstance(value, int) else float(value)


class RatePartsSerializer(serializers.Serializer):
    numerator = PartField()
    denominator = PartField()


RatesSerializer = type(
    "RatesSerializer",
    (serializers.Serializer,),
    {key: RatePartsSerializer(help_text=f"the parts of {key}") for key in figures.RATE_KEYS},
)


class BandSerializer(serializers.Serializer):
    band = serializers.CharField()
    count = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True, help_text="percent of the first responses")


def _figure_fields_with_rates() -> dict:
    return {
        **_figure_fields(),
        "rates": RatesSerializer(help_text="numerator and denominator of every rate"),
        "frt_distribution": BandSerializer(many=True, help_text="first responses per band of FRT"),
    }


FiguresSerializer = type("FiguresSerializer", (serializers.Serializer,), _figure_fields_with_rates())


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="inclusive")
    end = serializers.DateTimeField(help_text="exclusive")
    first_day = serializers.DateField()
    last_day = serializers.DateField()


class TargetsSerializer(serializers.Serializer):
    csat_percent = serializers.FloatField()
    nps = serializers.FloatField()
    fcr_percent = serializers.FloatField()
    abandonment_percent = serializers.FloatField()
    first_response = serializers.FloatField(allow_null=True, help_text="business seconds")
    resolution = serializers.FloatField(allow_null=True, help_text="business seconds")


class AnswerSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(help_text="every change committed before this instant is in the figures")


class SummarySerializer(AnswerSerializer):
    period = PeriodSerializer()
    previous_period = PeriodSerializer()
    figures = FiguresSerializer()
    previous_figures = FiguresSerializer()
    targets = TargetsSerializer()


RowSerializer = type(
    "BreakdownRowSerializer",
    (serializers.Serializer,),
    {
        "key": serializers.JSONField(allow_null=True, help_text="id, channel kind value, or null (none)"),
        "label": serializers.CharField(),
        "targets": TargetsSerializer(),
        **_figure_fields_with_rates(),
    },
)


class ByChannelSerializer(AnswerSerializer):
    period = PeriodSerializer()
    inboxes = RowSerializer(many=True)
    channel_kinds = RowSerializer(many=True)


class ByOperatorSerializer(AnswerSerializer):
    period = PeriodSerializer()
    operators = RowSerializer(many=True)
    teams = RowSerializer(many=True)


class CsatPartsSerializer(serializers.Serializer):
    csat = RatePartsSerializer(help_text="satisfied answers and answers")


class LabelRowSerializer(serializers.Serializer):
    key = serializers.IntegerField(allow_null=True, help_text="the label's id, or null (no label)")
    label = serializers.CharField()
    requested = serializers.IntegerField(help_text="live chats requested")
    answered = serializers.IntegerField(help_text="live chats an operator replied to")
    tickets_created = serializers.IntegerField()
    frt_count = serializers.IntegerField(help_text="tickets created with a first response")
    frt_mean = serializers.FloatField(allow_null=True, help_text="seconds")
    frt_median = serializers.FloatField(allow_null=True, help_text="seconds")
    frt_p90 = serializers.FloatField(allow_null=True, help_text="seconds")
    frt_business_mean = serializers.FloatField(allow_null=True, help_text="seconds")
    frt_business_median = serializers.FloatField(allow_null=True, help_text="seconds")
    frt_business_p90 = serializers.FloatField(allow_null=True, help_text="seconds")
    csat = serializers.FloatField(allow_null=True, help_text="percent")
    csat_responses = serializers.IntegerField()
    csat_satisfied = serializers.IntegerField()
    csat_mean = serializers.FloatField(allow_null=True)
    csat_mean_by_scale = serializers.DictField(child=serializers.FloatField(), help_text="mean per scale")
    rates = CsatPartsSerializer()


class ByLabelSerializer(AnswerSerializer):
    period = PeriodSerializer()
    labels = LabelRowSerializer(
        many=True,
        help_text="a conversation with two labels counts in both rows: the rows do not add up to the summary",
    )


class DaySerializer(serializers.Serializer):
    day = serializers.DateField()
    requested = serializers.IntegerField()
    frt_median = serializers.FloatField(allow_null=True, help_text="seconds")
    csat = serializers.FloatField(allow_null=True, help_text="percent")
    abandonment = serializers.FloatField(allow_null=True, help_text="percent")


class TimeseriesSerializer(AnswerSerializer):
    period = PeriodSerializer()
    days = DaySerializer(many=True)
    heatmap = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="requests by weekday (Monday first) × hour, in the desk's time zone (TIME_ZONE)",
    )


DAY_BOUNDS = f"from {EARLIEST_DAY.isoformat()} to {LATEST_DAYS_AHEAD} days after today"
RANGE_BOUND = f"not before start, fewer than {MAX_DAYS} days from it"
PARAMETERS = [
    OpenApiParameter("period", OpenApiTypes.STR, enum=[key for key, _label in PRESETS], description="default 30d"),
    OpenApiParameter("start", OpenApiTypes.DATE, description=f"first day, with period=custom; {DAY_BOUNDS}"),
    OpenApiParameter(
        "end", OpenApiTypes.DATE, description=f"last day (inclusive), with period=custom; {DAY_BOUNDS}; {RANGE_BOUND}"
    ),
    OpenApiParameter("inbox", OpenApiTypes.INT, many=True, explode=True),
    OpenApiParameter("channel_kind", OpenApiTypes.STR, many=True, explode=True),
    OpenApiParameter("team", OpenApiTypes.INT, many=True, explode=True),
    OpenApiParameter("operator", OpenApiTypes.INT, many=True, explode=True, description="operator's user id"),
]


def _period(query: ReportQuery) -> dict:
    return {"start": query.start, "end": query.end, "first_day": query.first_day, "last_day": query.last_day}


def _row(row: dict) -> dict:
    return {
        "key": row["key"],
        "label": row["label"],
        "targets": row["targets"],
        "rates": row["rates"],
        **{k: row[k] for k in FIGURE_KEYS},
        "frt_distribution": row["frt_distribution"],
    }


class ReportView(APIView):
    permission_classes = [HasReportsPermission]

    def get(self, request):
        form = ReportForm(request.query_params)
        if not form.is_valid():
            return Response({"errors": form.errors.get_json_data()}, status=400)
        with figures.report_session() as reading:
            data = {**self.compose(form.report_query()), "as_of": reading.as_of}
        return Response(self.serializer_class(data).data)


class SummaryView(ReportView):
    serializer_class = SummarySerializer

    @extend_schema(parameters=PARAMETERS, responses=SummarySerializer, summary="Every figure, and the previous period")
    def get(self, request):
        return super().get(request)

    def compose(self, query: ReportQuery) -> dict:
        previous = query.previous()
        return {
            "period": _period(query),
            "previous_period": _period(previous),
            "figures": figures.summary(query),
            "previous_figures": figures.summary(previous),
            "targets": figures.targets_for(query),
        }


class ByChannelView(ReportView):
    serializer_class = ByChannelSerializer

    @extend_schema(parameters=PARAMETERS, responses=ByChannelSerializer, summary="Every figure per inbox and kind")
    def get(self, request):
        return super().get(request)

    def compose(self, query: ReportQuery) -> dict:
        return {
            "period": _period(query),
            "inboxes": [_row(r) for r in figures.breakdown(query, by="inbox")],
            "channel_kinds": [_row(r) for r in figures.breakdown(query, by="channel_kind")],
        }


class ByOperatorView(ReportView):
    serializer_class = ByOperatorSerializer

    @extend_schema(parameters=PARAMETERS, responses=ByOperatorSerializer, summary="Every figure per operator, team")
    def get(self, request):
        return super().get(request)

    def compose(self, query: ReportQuery) -> dict:
        return {
            "period": _period(query),
            "operators": [_row(r) for r in figures.breakdown(query, by="operator")],
            "teams": [_row(r) for r in figures.breakdown(query, by="team")],
        }


class ByLabelView(ReportView):
    serializer_class = ByLabelSerializer

    @extend_schema(parameters=PARAMETERS, responses=ByLabelSerializer, summary="Volume, FRT and CSAT per label")
    def get(self, request):
        return super().get(request)

    def compose(self, query: ReportQuery) -> dict:
        return {"period": _period(query), "labels": figures.label_breakdown(query)}


class TimeseriesView(ReportView):
    serializer_class = TimeseriesSerializer

    @extend_schema(parameters=PARAMETERS, responses=TimeseriesSerializer, summary="Per day, and the heat map")
    def get(self, request):
        return super().get(request)

    def compose(self, query: ReportQuery) -> dict:
        return {"period": _period(query), "days": figures.timeseries(query), "heatmap": figures.heatmap(query)}
