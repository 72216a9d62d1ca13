"""Routes of the check API, included under ``/api/v1/`` by ``wellcheck.api_urls``."""

from django.urls import path

from wellcheck.checks.api import views

urlpatterns = [
    path("checks/", views.CheckListCreateView.as_view(), name="api-check-list"),
    path("checks/<uuid:pk>/", views.CheckDetailView.as_view(), name="api-check-detail"),
    path("checks/<uuid:pk>/submit/", views.CheckSubmitView.as_view(), name="api-check-submit"),
    path("checks/<uuid:pk>/review/", views.CheckReviewView.as_view(), name="api-check-review"),
    path(
        "checks/<uuid:pk>/mental-health/",
        views.CheckMentalHealthView.as_view(),
        name="api-check-mental-health",
    ),
]
