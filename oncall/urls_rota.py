"""The rota pages' routes (included by oncall.urls, in the oncall namespace)."""

urlpatterns = []
