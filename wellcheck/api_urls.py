"""The JSON API, version 1, and its OpenAPI schema."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from wellcheck.accounts.permissions import Action
from wellcheck.core.routes import ActionPermission


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, for any signed-in actor who may see checks or issue tokens."""

    permission_classes = [ActionPermission]
    required_action = Action.CHECK_VIEW


urlpatterns = [
    path("", include("wellcheck.checks.api.urls")),
    path("schema/", SchemaView.as_view(), name="api-schema"),
]
