from django.urls import path

from wellcheck.rights import views

app_name = "rights"

urlpatterns = [
    path("access/<uuid:pk>/answer.<str:fmt>", views.access_answer, name="access_answer"),
]
