"""The raw limit printed beside `make loadtest`: a plain DRF endpoint that validates a visit's shape and inserts
one row, served by the same gunicorn, Django middleware and PostgreSQL as the real door.

What it leaves out is what the visit door must do on top: the token, the throttle, the data dictionary,
units and derived scores, the idempotency key, patient, record entries, audit event and scoring job. It is
mounted only by the load test (`gunicorn doors.loadtest_raw:application`), never by the application's URLs.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinnova.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework import permissions, serializers, status  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

TABLE = "loadtest_raw_visit"
TABLE_CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, visit_id varchar(100), body jsonb)"
TABLE_DROP = f"DROP TABLE IF EXISTS {TABLE}"


class RawVisitIn(serializers.Serializer):
    visit_id = serializers.CharField(max_length=100)
    patient = serializers.DictField()
    disease = serializers.CharField(max_length=32)
    date = serializers.DateField()
    measurements = serializers.DictField()


class RawVisitView(APIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    def post(self, request):
        incoming = RawVisitIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {TABLE} (visit_id, body) VALUES (%s, %s) RETURNING id",
                           [incoming.validated_data["visit_id"], json.dumps(request.data)])
            row_id = cursor.fetchone()[0]
        return Response({"visit": str(row_id)}, status=status.HTTP_201_CREATED)


urlpatterns = [path("api/v1/visits/", RawVisitView.as_view())]
settings.ROOT_URLCONF = __name__  # this module's one URL, before the handler loads any
application = get_wsgi_application()
