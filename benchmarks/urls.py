"""The project's URLs plus the peer implementation, for the benchmark only."""

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns

from .peer import PeerTargetList

urlpatterns = [*project_urlpatterns, path("bench/peer/targets/", PeerTargetList.as_view())]
