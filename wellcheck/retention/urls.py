from django.urls import path

from wellcheck.retention import views

app_name = "retention"

urlpatterns = [
    path("reviews/", views.review_queue, name="reviews"),
    path("reviews/<int:review_id>/decide", views.review_decide_view, name="review_decide"),
    path("checks/<uuid:check_id>/", views.check_protection, name="check"),
    path("checks/<uuid:check_id>/expunge", views.check_expunge, name="expunge"),
    path("checks/<uuid:check_id>/evidence", views.restricted_read, name="evidence"),
]
