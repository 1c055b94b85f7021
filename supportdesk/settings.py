"""Settings, read from the environment (django-environ).

The embedded default needs no variable at all: SQLite under var/, the in-memory channel layer and
Celery's filesystem broker. DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
"""

from pathlib import Path

import environ

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the embedded default writes (database, Celery queue, mail, static files) lives here.
VAR_DIR = Path(env.str("SUPPORTDESK_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Core -------------------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=True)
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-change-me")
else:
    # Production refuses to start without a real secret.
    SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public base URL of the desk, used in e-mailed survey links.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "daphne",
    "supportdesk.apps.SupportdeskAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "chat",
    "tickets",
    "surveys",
    "rollups",
    "mail",
    "supportdesk",
]

# WhiteNoise can only run synchronously, and Django runs every middleware above a synchronous one the same way. Placed
# last, it makes the whole stack one trip to a thread per request; placed second, as its docs suggest, every middleware
# below it ran on the event loop with a thread hop for each of its hooks: about fifteen hops per request.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "chat.middleware.WidgetCorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
]

ROOT_URLCONF = "supportdesk.urls"
ASGI_APPLICATION = "supportdesk.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------

SQLITE_PATH = VAR_DIR / "supportdesk.sqlite3"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: wait for locks instead of failing, take the write lock
    # at BEGIN (no upgrade deadlocks), and let readers run beside the writer (WAL).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Each thread keeps its connection (a socket's database calls run in a pool of threads): opening one per call
    # ran the PRAGMAs above every time: 9.3 → 7.6 ms of CPU per message, p99 16 → 12 ms (bench/chat_load.py).
    DATABASES["default"]["CONN_MAX_AGE"] = None
    # A file, not :memory:, so that server and worker processes started by tests see the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    # The report indexes carry INCLUDE columns for PostgreSQL's index-only scans; SQLite builds them as plain
    # indexes, which is all it needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    # A pool of connections per process (psycopg_pool, through Django): each database call of a socket (in one of
    # daphne's threads) takes a connection and gives it back: no connect per call, and no health-check query per
    # call either, as the pool hands out only working connections. DB_POOL_MAX_SIZE=0 turns it off (for a pooler
    # such as PgBouncer in front), and CONN_MAX_AGE then keeps connections instead.
    DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=20)
    if DB_POOL_MAX_SIZE > 0:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, DB_POOL_MAX_SIZE),
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": env.float("DB_POOL_TIMEOUT_SECONDS", default=10.0),
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
    if env.bool("DB_PREPARED_STATEMENTS", default=False):
        # Parameters bound by the server and statements prepared after their 5th use on a connection.
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
    if DB_POOL_MAX_SIZE <= 0:
        DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels and Celery ----------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub: frames are pushed to each server process; the list-based core layer pops them one
            # round trip at a time and fell seconds behind at 50 messages/s (bench/chat_load.py). Nothing is
            # lost either way when a process is down: clients catch up from the database on reconnect.
            "BACKEND": env.str("CHANNEL_LAYER_BACKEND", default="channels_redis.pubsub.RedisPubSubChannelLayer"),
            # redis-py 8 reads with a 5 s socket timeout by default, exactly the core layer's 5 s BZPOPMIN wait:
            # an idle socket's receive then failed with TimeoutError and killed its consumer. Read longer; and
            # allow more than its default 100 connections per process (hundreds of sockets join groups at once).
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "max_connections": 2000}],
                "capacity": 1500,
                "expiry": 60,
            },
        }
    }
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"
    for _d in (_queue_dir, _processed_dir, _control_dir):
        _d.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "store_processed": False,
        # Remote-control (pidbox) files; kombu would otherwise write them to ./control.
        "control_folder": str(_control_dir),
    }
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
# Beat periods of the sweeps (seconds).
SWEEP_INTERVAL_SECONDS = env.float("SWEEP_INTERVAL_SECONDS", default=15.0)
# Report rollups are refreshed this often (a report finding them two periods old refreshes first): 60 s at most.
ROLLUPS_REFRESH_SECONDS = env.float("ROLLUPS_REFRESH_SECONDS", default=20.0)
CELERY_BEAT_SCHEDULE = {
    # Abandoned, missed and visitor-left conversations; operators offline after the presence grace.
    "chat-sweep": {"task": "chat.sweep", "schedule": SWEEP_INTERVAL_SECONDS},
    "tickets-sla-sweep": {"task": "tickets.sla_sweep", "schedule": SWEEP_INTERVAL_SECONDS},
    "surveys-sweep-invitations": {"task": "surveys.sweep_invitations", "schedule": SWEEP_INTERVAL_SECONDS},
    # Report rollups: the days that changes marked (metrics.md: figures at most 60 s behind).
    "rollups-refresh": {"task": "rollups.refresh", "schedule": ROLLUPS_REFRESH_SECONDS},
    # Visitors who never wrote and whose tokens have all expired (hourly; each run deletes what is due).
    "chat-purge-unreachable-visitors": {"task": "chat.purge_unreachable_visitors", "schedule": 3600.0},
    # Mail out that no task sent (broker down, worker killed) and retries that are due.
    "mail-sweep": {"task": "mail.sweep", "schedule": SWEEP_INTERVAL_SECONDS},
    # The IMAP mailboxes of the inboxes that have one.
    "mail-poll-imap": {"task": "mail.poll_imap", "schedule": env.float("MAIL_IMAP_POLL_SECONDS", default=60.0)},
}
CELERY_IMPORTS = ["rollups.tasks", "mail.tasks"]

# --- Cache (rate limits; shared by web and worker processes) ---------------------------------------

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {
        "BACKEND": "supportdesk.cache.EmbeddedFileCache",
        "LOCATION": str(VAR_DIR / "cache"),
        "OPTIONS": {"MAX_ENTRIES": env.int("CACHE_MAX_ENTRIES", default=50000)},
    }
}

# --- Auth, i18n, static -----------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/inbox/"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fa", "فارسی")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# The desk's time zone: report periods, days and the heat map's hours are counted in it (stored instants stay UTC).
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Received mail and attachments: never served by URL, only through the inbox's checked views (docs/email.md).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"
# Operators' avatars (chat.services.avatars): the largest upload taken; what is kept is a small PNG made from it.
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=2 * 1024 * 1024)
# Chat attachments (chat.services.attachments, docs/security.md): local files under MEDIA_ROOT by default; an
# S3-compatible bucket with ATTACHMENTS_STORAGE=s3 (django-storages; AWS_* settings below). Never served by URL of
# the storage: only through the desk's signed, expiring addresses.
ATTACHMENTS_STORAGE = env.str("ATTACHMENTS_STORAGE", default="local")
# Defaults of the inbox's own limits (admin → Inboxes): bytes per file, files per message, the types taken (by
# content), unsent uploads one visitor or operator may hold, and how long a signed address works.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
ATTACHMENTS_PER_MESSAGE = env.int("ATTACHMENTS_PER_MESSAGE", default=5)
ATTACHMENT_TYPES = env.list(
    "ATTACHMENT_TYPES",
    default=[
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ],
)
ATTACHMENTS_PENDING_MAX = env.int("ATTACHMENTS_PENDING_MAX", default=20)
ATTACHMENT_URL_MAX_AGE_SECONDS = env.int("ATTACHMENT_URL_MAX_AGE_SECONDS", default=6 * 3600)
# Uploads never sent with a message are deleted after this (the hourly purge).
ATTACHMENT_UNSENT_MAX_AGE_SECONDS = env.int("ATTACHMENT_UNSENT_MAX_AGE_SECONDS", default=24 * 3600)
# The long side of an image's thumbnail, in pixels (made by a Celery task).
ATTACHMENT_THUMBNAIL_PIXELS = 320
_ATTACHMENT_STORAGES = {
    "local": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT / "attachments"), "base_url": "/media-not-served/attachments/"},
    },
    "s3": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME", default=""),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("AWS_LOCATION", default="attachments"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    },
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": _ATTACHMENT_STORAGES[ATTACHMENTS_STORAGE],
    "staticfiles": {
        # Hashed, compressed files in production; plain files while developing and testing.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# The widget script is embedded by other sites: let them load it.
WHITENOISE_ALLOW_ALL_ORIGINS = True

# --- E-mail -----------------------------------------------------------------------------------

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Supportdesk <support@localhost>")

# --- The e-mail channel (docs/email.md) ------------------------------------------------------------
# The SMTP receiver (`manage.py mailreceiver`, started by rundesk and docker-compose): a domain's MX, or a relay.
MAIL_RECEIVER_HOST = env.str("MAIL_RECEIVER_HOST", default="127.0.0.1")
MAIL_RECEIVER_PORT = env.int("MAIL_RECEIVER_PORT", default=2525)
# The name the receiver greets with (its EHLO); empty: the machine's name.
MAIL_RECEIVER_HOSTNAME = env.str("MAIL_RECEIVER_HOSTNAME", default="")
# A mail larger than this is refused whole (552), never half-stored; each attachment has its own limit and types.
MAIL_MAX_BYTES = env.int("MAIL_MAX_BYTES", default=25 * 1024 * 1024)
MAIL_ATTACHMENT_MAX_BYTES = env.int("MAIL_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# The same allow-list as the chat attachments unless set apart.
MAIL_ATTACHMENT_TYPES = env.list("MAIL_ATTACHMENT_TYPES", default=ATTACHMENT_TYPES)
# The text shown in the inbox is cut here (the whole mail is kept).
MAIL_SHOWN_MAX_CHARS = env.int("MAIL_SHOWN_MAX_CHARS", default=20000)
# Loops and floods: mails taken from one sender per hour (then 451, try later), acknowledgements sent to one.
MAIL_PER_SENDER_PER_HOUR = env.int("MAIL_PER_SENDER_PER_HOUR", default=30)
MAIL_PER_ACCOUNT_PER_HOUR = env.int("MAIL_PER_ACCOUNT_PER_HOUR", default=0)
MAIL_ACKS_PER_SENDER_PER_HOUR = env.int("MAIL_ACKS_PER_SENDER_PER_HOUR", default=3)
MAIL_ACKS_PER_ACCOUNT_PER_HOUR = 0
# Sending: attempts before a mail is failed, the first retry's delay (doubling, at most an hour), a worker's lease.
MAIL_MAX_ATTEMPTS = env.int("MAIL_MAX_ATTEMPTS", default=8)
MAIL_RETRY_BASE_SECONDS = env.float("MAIL_RETRY_BASE_SECONDS", default=60.0)
MAIL_SEND_LEASE_SECONDS = env.float("MAIL_SEND_LEASE_SECONDS", default=5 * 60.0)
# The key IMAP passwords are encrypted with in the database (Fernet); empty: derived from SECRET_KEY.
MAIL_SECRET_KEY = env.str("MAIL_SECRET_KEY", default="")

# --- CORS: the widget's HTTP API, checked per inbox in chat.middleware and chat.api ----------------------------------

CORS_URLS_REGEX = r"^/api/widget/.*$"
CORS_ALLOW_ALL_ORIGINS = False

# --- REST framework ---------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "supportdesk.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Supportdesk API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Protocol limits (protocol.md) ------------------------------------------------------------

WS_MAX_FRAME_BYTES = env.int("WS_MAX_FRAME_BYTES", default=16 * 1024)
MESSAGE_MAX_CHARS = env.int("MESSAGE_MAX_CHARS", default=4000)
VISITOR_RATE_LIMIT_MESSAGES = env.int("VISITOR_RATE_LIMIT_MESSAGES", default=10)
VISITOR_RATE_LIMIT_WINDOW_SECONDS = env.float("VISITOR_RATE_LIMIT_WINDOW_SECONDS", default=10.0)
# Refusals past the limit within one window after which a visitor socket is closed with 4429.
VISITOR_FLOOD_CLOSE_AFTER = env.int("VISITOR_FLOOD_CLOSE_AFTER", default=10)
WS_HELLO_TIMEOUT_SECONDS = env.float("WS_HELLO_TIMEOUT_SECONDS", default=10.0)
TYPING_THROTTLE_SECONDS = env.float("TYPING_THROTTLE_SECONDS", default=1.0)
# An operator whose last socket closed goes offline after this (a page reload is not going offline).
PRESENCE_GRACE_SECONDS = env.float("PRESENCE_GRACE_SECONDS", default=20.0)
VISITOR_TOKEN_MAX_AGE_DAYS = env.int("VISITOR_TOKEN_MAX_AGE_DAYS", default=365)

# --- Anonymous visitors: limits per client address and per site key (docs/security.md) ---------

# Proxies in front of the desk that append to X-Forwarded-For; 0 ignores the header (anyone can write it).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Each pair bounds one action per client address and per site key in a fixed window; 0 turns a bound off.
WIDGET_SESSIONS_PER_ADDRESS_PER_MINUTE = env.int("WIDGET_SESSIONS_PER_ADDRESS_PER_MINUTE", default=120)
WIDGET_SESSIONS_PER_SITE_PER_MINUTE = env.int("WIDGET_SESSIONS_PER_SITE_PER_MINUTE", default=20000)
WIDGET_HELLOS_PER_ADDRESS_PER_MINUTE = env.int("WIDGET_HELLOS_PER_ADDRESS_PER_MINUTE", default=120)
WIDGET_HELLOS_PER_SITE_PER_MINUTE = env.int("WIDGET_HELLOS_PER_SITE_PER_MINUTE", default=20000)
VISITOR_MESSAGES_PER_ADDRESS_PER_MINUTE = env.int("VISITOR_MESSAGES_PER_ADDRESS_PER_MINUTE", default=300)
VISITOR_MESSAGES_PER_SITE_PER_MINUTE = env.int("VISITOR_MESSAGES_PER_SITE_PER_MINUTE", default=20000)
# New contacts (a visitor's first message, pre-chat or offline form), however they come.
NEW_CONTACTS_PER_ADDRESS_PER_HOUR = env.int("NEW_CONTACTS_PER_ADDRESS_PER_HOUR", default=500)
NEW_CONTACTS_PER_SITE_PER_HOUR = env.int("NEW_CONTACTS_PER_SITE_PER_HOUR", default=20000)
# Open widget sockets per client address, counted in the shared cache across server processes (0: no bound).
WS_MAX_SOCKETS_PER_ADDRESS = env.int("WS_MAX_SOCKETS_PER_ADDRESS", default=50)
OFFLINE_MESSAGES_PER_ADDRESS_PER_HOUR = env.int("OFFLINE_MESSAGES_PER_ADDRESS_PER_HOUR", default=20)
OFFLINE_MESSAGES_PER_SITE_PER_HOUR = env.int("OFFLINE_MESSAGES_PER_SITE_PER_HOUR", default=2000)
# Files uploaded by visitors (POST /api/widget/v1/uploads).
WIDGET_UPLOADS_PER_ADDRESS_PER_HOUR = env.int("WIDGET_UPLOADS_PER_ADDRESS_PER_HOUR", default=200)
WIDGET_UPLOADS_PER_SITE_PER_HOUR = env.int("WIDGET_UPLOADS_PER_SITE_PER_HOUR", default=20000)

# --- Metric windows and thresholds (metrics.md) -----------------------------------------------

ABANDONMENT_GRACE_SECONDS = env.float("ABANDONMENT_GRACE_SECONDS", default=60.0)
QUEUE_TIMEOUT_SECONDS = env.float("QUEUE_TIMEOUT_SECONDS", default=300.0)
# An answered conversation whose visitor is gone this long ends as visitor_left.
VISITOR_INACTIVITY_TIMEOUT_SECONDS = env.float("VISITOR_INACTIVITY_TIMEOUT_SECONDS", default=900.0)
FCR_WINDOW_SECONDS = env.float("FCR_WINDOW_SECONDS", default=72 * 3600.0)
SLA_CHAT_FIRST_RESPONSE_SECONDS = env.float("SLA_CHAT_FIRST_RESPONSE_SECONDS", default=120.0)
SLA_OFFLINE_FIRST_RESPONSE_SECONDS = env.float("SLA_OFFLINE_FIRST_RESPONSE_SECONDS", default=24 * 3600.0)
SLA_CHAT_RESOLUTION_SECONDS = env.float("SLA_CHAT_RESOLUTION_SECONDS", default=8 * 3600.0)
SLA_OFFLINE_RESOLUTION_SECONDS = env.float("SLA_OFFLINE_RESOLUTION_SECONDS", default=72 * 3600.0)
SLA_AT_RISK_RATIO = env.float("SLA_AT_RISK_RATIO", default=0.8)
SURVEY_EMAIL_DELAY_SECONDS = env.float("SURVEY_EMAIL_DELAY_SECONDS", default=30 * 60.0)
# How long a sweep's claim on a survey e-mail holds: after it, a sweep takes over from a worker that died.
SURVEY_EMAIL_LEASE_SECONDS = env.float("SURVEY_EMAIL_LEASE_SECONDS", default=5 * 60.0)
SURVEY_COOLDOWN_SECONDS = env.float("SURVEY_COOLDOWN_SECONDS", default=24 * 3600.0)
NPS_INTERVAL_SECONDS = env.float("NPS_INTERVAL_SECONDS", default=90 * 86400.0)
SURVEY_EXPIRY_SECONDS = env.float("SURVEY_EXPIRY_SECONDS", default=7 * 86400.0)
TARGET_CSAT_PERCENT = env.float("TARGET_CSAT_PERCENT", default=80.0)
TARGET_NPS = env.float("TARGET_NPS", default=50.0)
TARGET_FCR_PERCENT = env.float("TARGET_FCR_PERCENT", default=70.0)
TARGET_ABANDONMENT_PERCENT = env.float("TARGET_ABANDONMENT_PERCENT", default=5.0)

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}
