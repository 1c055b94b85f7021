from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("surveys/<str:signed>/", views.survey_page, name="page"),
    path("surveys/<str:signed>/opt-out/", views.survey_opt_out, name="opt-out"),
]
