"""Town311's Chalice application: wiring only.

Every route lives in a blueprint under ``chalicelib/api`` and every event handler in
``chalicelib/events``; this module registers them and nothing else, so importing it costs
no AWS client and reads no configuration (a cold start is paid by a resident).
"""

from chalice import Chalice

from chalicelib.api import (
    admin,
    alerts,
    channels,
    departments,
    docs,
    duplicates,
    emergency,
    media,
    open311,
    photos,
    platform,
    residents,
    service_levels,
    staff,
    tracking,
)
from chalicelib.api.errors import open311_error_middleware
from chalicelib.events import notices, pipeline
from chalicelib.observability import QUEUE_MIDDLEWARE, log_http_call

# Logging is powertools' (chalicelib/observability.py); Chalice's own handler on the same
# logger name would print every line twice.
app = Chalice(app_name="town311", configure_logs=False)
# Open311 clients may send a photo as a multipart ``media`` part; API Gateway must pass
# such bodies through base64-encoded rather than mangling them as text.
app.api.binary_types.append("multipart/form-data")
app.register_middleware(open311_error_middleware, "http")
app.register_middleware(log_http_call, "http")
for queue_middleware in QUEUE_MIDDLEWARE:  # also set on each handler: see observability
    app.register_middleware(queue_middleware, "sqs")
app.register_blueprint(open311.blueprint)
app.register_blueprint(docs.blueprint)
app.register_blueprint(media.blueprint)
app.register_blueprint(staff.blueprint)
app.register_blueprint(admin.blueprint)
app.register_blueprint(platform.blueprint)
app.register_blueprint(departments.blueprint)
app.register_blueprint(channels.blueprint)
app.register_blueprint(residents.blueprint)
app.register_blueprint(duplicates.blueprint)
app.register_blueprint(tracking.blueprint)
app.register_blueprint(photos.blueprint)
app.register_blueprint(service_levels.blueprint)
app.register_blueprint(alerts.blueprint)
app.register_blueprint(emergency.blueprint)
app.register_blueprint(pipeline.blueprint)
app.register_blueprint(notices.blueprint)
