from django.urls import path

from wellcheck.insights import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("export/<slug:slug>.<str:fmt>", views.export_view, name="export"),
]
