from django.urls import path

from wellcheck.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_search, name="search"),
    path("export.csv", views.event_export, name="export"),
    # Record ids travel in the query string (?seq=, ?id=): a blank form answers without one.
    path("event/", views.event_detail, name="event"),
    path("person/", views.person_report, name="person"),
    path("unusual/", views.unusual_list, name="unusual"),
    path("unusual/report/", views.unusual_report, name="unusual_report"),
]
