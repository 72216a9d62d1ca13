from django.urls import path

from wellcheck.checks import views

app_name = "checks"

urlpatterns = [
    path("", views.check_list, name="list"),
]
