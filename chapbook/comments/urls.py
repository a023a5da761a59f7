from django.urls import path

app_name = "comments"
urlpatterns: list = []
