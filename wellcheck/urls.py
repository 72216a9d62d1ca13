"""Root URL configuration. Each app's routes declare their access rule (see core/routes.py)."""

from django.urls import include, path

urlpatterns = [
    path("", include("wellcheck.checks.urls")),
    path("accounts/", include("wellcheck.accounts.urls")),
    path("agency/", include("wellcheck.administration.urls")),
    path("insights/", include("wellcheck.insights.urls")),
    path("transparency/", include("wellcheck.transparency.urls")),
    path("intake/", include("wellcheck.intake.urls")),
    path("audit/", include("wellcheck.audit.urls")),
    path("rights/", include("wellcheck.rights.urls")),  # issue 5: the person's rights
    path("people/", include("wellcheck.people.urls")),  # issue 5: person search and page
    path("retention/", include("wellcheck.retention.urls")),  # issue 5: reviews, seal, expunge
    path("api/v1/", include("wellcheck.api_urls")),
]
