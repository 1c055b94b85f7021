from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from supportdesk import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("", include("supportdesk.reports.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("chat.urls")),
    path("", include("surveys.urls")),
    path("", include("tickets.urls")),
    path("", include("mail.urls")),
]
