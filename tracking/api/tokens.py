"""token/: a token for a username and password, throttled like any anonymous client."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from .parsers import JSONBodyParser
from .throttling import AnonThrottle


USERNAME_MAX = get_user_model()._meta.get_field("username").max_length
# Long enough for any passphrase; a megabyte "password" is only work for the hasher.
PASSWORD_MAX = 1024


class CredentialsSerializer(AuthTokenSerializer):
    """authtoken's, with the lengths checked before authenticate().

    A username no account can have is refused here: authenticate() would
    otherwise have django-axes record the failure in a 255-character column,
    which the database refuses (a 500).
    """

    username = serializers.CharField(label=_("用户名"), max_length=USERNAME_MAX, write_only=True)
    password = serializers.CharField(
        label=_("密码"), style={"input_type": "password"}, trim_whitespace=False, max_length=PASSWORD_MAX, write_only=True
    )


class LockedOut(exceptions.APIException):
    """django-axes' lockout, answered as the admin's is: 429, as the README says."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self):
        minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
        super().__init__(_("登录失败次数过多，账户已暂时锁定，请 %(minutes)d 分钟后再试") % {"minutes": minutes})


@extend_schema(
    summary="用用户名和密码换取令牌",
    description="返回该用户的令牌（已有则返回原令牌）。之后的请求带上 `Authorization: Token <token>`。",
    request=inline_serializer(
        "Credentials",
        {
            "username": serializers.CharField(help_text="用户名", max_length=USERNAME_MAX),
            "password": serializers.CharField(help_text="密码", max_length=PASSWORD_MAX),
        },
    ),
    responses=inline_serializer("Token", {"token": serializers.CharField(help_text="API 令牌")}),
    auth=[],
)
class TokenView(ObtainAuthToken):
    # authtoken's own view is unthrottled; a password guesser is anonymous.
    throttle_classes = [AnonThrottle]
    serializer_class = CredentialsSerializer
    # The API's JSON parser: lone surrogates in a username are a 400, not a database error.
    parser_classes = [parsers.FormParser, parsers.MultiPartParser, JSONBodyParser]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        # Axes marks the request it was given (DRF's, here) once the failure limit is
        # reached, or while the lockout lasts; its middleware only sees Django's.
        if getattr(request, "axes_locked_out", False):
            raise LockedOut()
        if not valid:
            raise exceptions.ValidationError(serializer.errors)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
