from django.urls import path

from wellcheck.intake import views

app_name = "intake"

urlpatterns = [
    path("", views.import_index, name="index"),
    path("<uuid:run_id>/", views.import_run, name="run"),
    path("<uuid:run_id>/rejects.csv", views.import_rejects, name="rejects"),
]
