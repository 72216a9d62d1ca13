from django.urls import path

from wellcheck.administration import views

app_name = "administration"

urlpatterns = [
    path("", views.agency_settings, name="agency"),
    path("codes/", views.code_list, name="codes"),
    path("codes/<int:code_id>/toggle/", views.code_toggle, name="code-toggle"),
]
