"""factory_boy factories for every model the tests build histories from."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from chat.models import CannedReply, ChannelKind, Contact, Conversation, Inbox, Label, Message, OperatorProfile, Team
from surveys.models import SurveyInvitation, SurveyResponse, SurveyTemplate
from tickets.models import BusinessHoursInterval, Holiday, ReportingEvent, SlaTarget, Ticket


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class InboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Inbox

    name = factory.Sequence(lambda n: f"Website {n}")
    kind = ChannelKind.WEB_WIDGET
    team = factory.SubFactory(TeamFactory)
    allowed_origins = factory.LazyFunction(lambda: ["http://site.test", "http://127.0.0.1", "http://localhost"])
    greeting = "Hi! How can we help?"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-1")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OperatorFactory(factory.django.DjangoModelFactory):
    """An operator profile; pass inboxes=[...] and teams=[...] to place it."""

    class Meta:
        model = OperatorProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    display_name = factory.Sequence(lambda n: f"Operator {n}")
    status = OperatorProfile.Status.ONLINE
    max_chats = 3

    @factory.post_generation
    def inboxes(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.inboxes.set(extracted)
            for inbox in extracted:
                if inbox.team_id:
                    obj.teams.add(inbox.team_id)

    @factory.post_generation
    def teams(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.teams.add(*extracted)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    inbox = factory.SubFactory(InboxFactory)
    name = factory.Sequence(lambda n: f"Visitor {n}")
    email = factory.LazyAttribute(lambda c: f"{c.name.lower().replace(' ', '.')}@example.org")


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    inbox = factory.SubFactory(InboxFactory)
    contact = factory.SubFactory(ContactFactory, inbox=factory.SelfAttribute("..inbox"))
    channel_kind = factory.LazyAttribute(lambda t: t.inbox.kind)
    created_at = factory.LazyFunction(timezone.now)


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    inbox = factory.SubFactory(InboxFactory)
    contact = factory.SubFactory(ContactFactory, inbox=factory.SelfAttribute("..inbox"))
    channel_kind = factory.LazyAttribute(lambda c: c.inbox.kind)
    requested_at = factory.LazyFunction(timezone.now)


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Label

    name = factory.Sequence(lambda n: f"label {n}")
    colour = "#1f6feb"
    inbox = None


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    sender = Message.Sender.VISITOR
    body = factory.Sequence(lambda n: f"Message {n}")


class CannedReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CannedReply

    shortcut = factory.Sequence(lambda n: f"reply{n}")
    title = factory.Sequence(lambda n: f"Reply {n}")
    body = "Thanks for waiting!"


class BusinessHoursIntervalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessHoursInterval


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Holiday


class SlaTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaTarget


class ReportingEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportingEvent


class SurveyTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyTemplate

    inbox = factory.SubFactory(InboxFactory)


class SurveyInvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyInvitation

    conversation = factory.SubFactory(ConversationFactory)
    contact = factory.SelfAttribute("conversation.contact")
    inbox = factory.SelfAttribute("conversation.inbox")
    channel_kind = factory.SelfAttribute("conversation.channel_kind")
    token = factory.Sequence(lambda n: f"token-{n}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=7))


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyResponse

    invitation = factory.SubFactory(SurveyInvitationFactory)
    channel = "widget"
