"""API routes of the reports, and the OpenAPI schema with its docs (assets from drf-spectacular-sidecar, apidocs)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import IsAdminUser

from supportdesk.reports import api, apidocs

urlpatterns = [
    path("api/v1/reports/summary", api.SummaryView.as_view(), name="reports-api-summary"),
    path("api/v1/reports/by-channel", api.ByChannelView.as_view(), name="reports-api-by-channel"),
    path("api/v1/reports/by-operator", api.ByOperatorView.as_view(), name="reports-api-by-operator"),
    path("api/v1/reports/by-label", api.ByLabelView.as_view(), name="reports-api-by-label"),
    path("api/v1/reports/timeseries", api.TimeseriesView.as_view(), name="reports-api-timeseries"),
    path("api/v1/schema/", SpectacularAPIView.as_view(permission_classes=[IsAdminUser]), name="api-schema"),
    path(
        "api/v1/docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[IsAdminUser]),
        name="api-docs",
    ),
    path(
        "api/v1/redoc/",
        SpectacularRedocView.as_view(
            url_name="api-schema", permission_classes=[IsAdminUser], template_name="admin/reports/redoc.html"
        ),
        name="api-redoc",
    ),
    path("api/v1/redoc/redoc.standalone.js", apidocs.redoc_bundle, name="api-redoc-bundle"),
]
