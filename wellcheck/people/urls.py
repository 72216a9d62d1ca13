from django.urls import path

from wellcheck.people import views

app_name = "people"

urlpatterns = [
    path("", views.search, name="search"),
    path("<uuid:person_id>/", views.person_page, name="detail"),
    path(
        "<uuid:person_id>/consents/<int:consent_id>/withdraw",
        views.consent_withdraw_view,
        name="consent_withdraw",
    ),
]
