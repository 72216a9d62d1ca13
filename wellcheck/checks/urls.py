"""Check pages. Each view declares its access rule with ``@requires`` (see core/routes.py)."""

from django.urls import path

from wellcheck.checks import views, views_review

app_name = "checks"

urlpatterns = [
    path("", views.check_list, name="list"),
    path("checks/new/", views.check_new, name="new"),
    path("checks/<uuid:check_id>/", views.check_detail, name="detail"),
    path("checks/<uuid:check_id>/edit/", views.check_edit, name="edit"),
    path("checks/<uuid:check_id>/submit/", views.check_submit_view, name="submit"),
    path("checks/<uuid:check_id>/mental-health/", views.check_mark_mh_view, name="mark_mh"),
    path("checks/<uuid:check_id>/review/", views_review.check_review_view, name="review"),
    path(
        "checks/<uuid:check_id>/follow-ups/",
        views_review.follow_up_create_view,
        name="follow_up_create",
    ),
    path(
        "checks/<uuid:check_id>/follow-ups/<int:follow_up_id>/complete/",
        views_review.follow_up_complete_view,
        name="follow_up_complete",
    ),
    path(
        "checks/<uuid:check_id>/outcome-review/",
        views_review.outcome_review_view,
        name="outcome_review",
    ),
    path("review/", views_review.review_queue, name="review_queue"),
]
