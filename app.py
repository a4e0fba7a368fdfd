"""Town311's Chalice application: wiring only.

Every route lives in a blueprint under ``chalicelib/api`` and every event handler in
``chalicelib/events``; this module registers them and nothing else, so importing it costs
no AWS client and reads no configuration (a cold start is paid by a resident). Routes are
registered from the generated route table and each view module is imported by the first
call that needs it (``chalicelib/api/routes.py`` says why and how).
"""

from chalicelib import coldstart

# No garbage collection while the container starts (chalicelib/coldstart.py says why).
coldstart.starting()

from chalice import Chalice

from chalicelib.api.errors import open311_error_middleware
from chalicelib.api.routes import register_routes
from chalicelib.events import exports, figures, mail, notices, pipeline
from chalicelib.observability import QUEUE_MIDDLEWARE, log_http_call

# Logging is powertools' (chalicelib/observability.py); Chalice's own handler on the same
# logger name would print every line twice.
app = Chalice(app_name="town311", configure_logs=False)
# Open311 clients may send a photo as a multipart ``media`` part; API Gateway must pass
# such bodies through base64-encoded rather than mangling them as text.
app.api.binary_types.append("multipart/form-data")
# API Gateway gzips answers over 1 kB for clients that accept it: a resident's page (HTML,
# USWDS's CSS) crosses a slow network at a sixth of its size (bench/pages.py weighs it so).
app.api.minimum_compression_size = 1024
app.register_middleware(coldstart.after_first_call, "all")
app.register_middleware(open311_error_middleware, "http")
app.register_middleware(log_http_call, "http")
for queue_middleware in QUEUE_MIDDLEWARE:  # also set on each handler: see observability
    app.register_middleware(queue_middleware, "sqs")
lazy_routes = register_routes(app)
app.register_blueprint(pipeline.blueprint)
app.register_blueprint(notices.blueprint)
app.register_blueprint(exports.blueprint)
app.register_blueprint(figures.blueprint)
app.register_blueprint(mail.blueprint)
