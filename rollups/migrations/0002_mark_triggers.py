"""Triggers that mark the days a change makes stale (rollups.triggers), over a frozen copy of its table list."""

from django.db import migrations

from rollups import triggers

TABLES = {'tickets_ticket': {'spans': [('created_at', None), ('resolved_at', None)],
                    'columns': ['inbox_id',
                                'channel_kind',
                                'status',
                                'team_id',
                                'first_responder_id',
                                'resolved_by_id',
                                'created_at',
                                'first_response_at',
                                'first_response_seconds',
                                'first_response_business_seconds',
                                'resolved_at',
                                'resolution_seconds',
                                'resolution_business_seconds',
                                'reopen_count',
                                'conversation_count',
                                'min_reopen_gap_seconds',
                                'next_ticket_at',
                                'first_response_due_at',
                                'resolution_due_at']},
 'chat_conversation': {'spans': [('requested_at', 'ended_at')],
                       'columns': ['inbox_id',
                                   'channel_kind',
                                   'team_id',
                                   'assignee_id',
                                   'requested_at',
                                   'assigned_at',
                                   'first_response_at',
                                   'ended_at',
                                   'visitor_left_at',
                                   'end_reason',
                                   'transfer_count',
                                   'operator_message_count',
                                   'canned_message_count']},
 'surveys_surveyinvitation': {'spans': [('sent_at', None)],
                              'columns': ['inbox_id',
                                          'channel_kind',
                                          'team_id',
                                          'operator_id',
                                          'status',
                                          'sent_at']},
 'surveys_surveyresponse': {'spans': [('created_at', None)],
                            'columns': ['invitation_id',
                                        'csat',
                                        'csat_scale',
                                        'ces',
                                        'ces_scale',
                                        'nps',
                                        'created_at']},
 'chat_presenceinterval': {'spans': [('started_at', 'ended_at')],
                           'columns': ['operator_id', 'status', 'started_at', 'ended_at']}}


def install(apps, schema_editor):
    triggers.install(schema_editor, TABLES)


def uninstall(apps, schema_editor):
    triggers.uninstall(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("rollups", "0001_initial"),
        ("chat", "0010_conversation_visitor_left_at"),
        ("tickets", "0005_ticket_first_responder_resolved_by"),
        ("surveys", "0005_survey_email_claim"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
