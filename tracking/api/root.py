"""/api/v1/: where a newcomer starts: every list, the summary, the token, the docs and the schema."""

from rest_framework import routers
from rest_framework.permissions import AllowAny
from rest_framework.reverse import reverse


class ApiRootView(routers.APIRootView):
    """职工实事跟踪 API 的入口。

    - 各资源的列表：regions 地区，programmes 计划，targets 指标及进度，progress-reports 进度填报；
    - summary：按地区、类别或计划的统计汇总；bulletin：地区的进展情况通报（Word 文档）；
    - completeness：各地区各期的报送情况（按时、逾期、未报），报送率与及时率；
    - token：用用户名和密码（POST）换取令牌，之后在请求头中发送 Authorization: Token <令牌>；
    - docs：交互式文档（Swagger UI），schema：OpenAPI 3 描述。
    """

    # Links only, public like the docs and the schema they point to.
    permission_classes = [AllowAny]
    # Beside the viewsets' lists, which DefaultRouter adds: key → URL name. Reversed
    # without a format, since these views have no .json suffix of their own.
    links = {"summary": "summary", "completeness": "completeness", "bulletin": "bulletin", "token": "token", "docs": "docs",
             "schema": "schema"}

    def get_view_name(self):
        return "职工实事跟踪 API"

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.data.update({key: reverse(name, request=request) for key, name in self.links.items()})
        return response


class Router(routers.DefaultRouter):
    APIRootView = ApiRootView
