"""token/: a token for a username and password, throttled like any anonymous client."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken

from .throttling import AnonThrottle


@extend_schema(
    summary="用用户名和密码换取令牌",
    description="返回该用户的令牌（已有则返回原令牌）。之后的请求带上 `Authorization: Token <token>`。",
    request=inline_serializer(
        "Credentials",
        {
            "username": serializers.CharField(help_text="用户名"),
            "password": serializers.CharField(help_text="密码"),
        },
    ),
    responses=inline_serializer("Token", {"token": serializers.CharField(help_text="API 令牌")}),
    auth=[],
)
class TokenView(ObtainAuthToken):
    # authtoken's own view is unthrottled; a password guesser is anonymous.
    throttle_classes = [AnonThrottle]
