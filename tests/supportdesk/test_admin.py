"""Every admin page a manager uses opens: list, add and change pages of every model."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse


@pytest.mark.django_db
def test_every_admin_changelist_and_add_page_opens(admin_client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        response = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert response.status_code == 200, info
        response = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)), {"q": "demo"})
        assert response.status_code == 200, info
        if model_admin.has_add_permission(response.wsgi_request):
            assert admin_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200, info
        obj = model.objects.first()
        if obj is not None:
            assert admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk])).status_code == 200, info


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_the_admin_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
