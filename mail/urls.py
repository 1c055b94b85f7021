from django.urls import path

from mail import views

urlpatterns = [
    path("inbox/mail/<int:mail_id>/", views.mail_original, name="inbox-mail-original"),
    path("inbox/mail/attachments/<int:attachment_id>/", views.mail_attachment, name="inbox-mail-attachment"),
]
