from django.urls import path

from wellcheck.transparency import views

app_name = "transparency"

urlpatterns = [
    path("", views.index, name="index"),
    path("data-dictionary.<str:fmt>", views.data_dictionary, name="dictionary"),
    path("<slug:slug>/", views.agency_view, name="agency"),
    path("<slug:slug>/<str:period>.csv", views.report_csv, name="report_csv"),
    path("<slug:slug>/<str:period>.json", views.report_json, name="report_json"),
    path("<slug:slug>/<str:period>/", views.report_view, name="report"),
]
