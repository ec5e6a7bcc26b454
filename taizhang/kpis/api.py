"""The measures in the API (/api/v1/kpis/): the same figures as the dashboard, each with numerator,
denominator, rate and the case-list query behind every number. Thin: parse, call one selector, render."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taizhang.kpis import selectors
from taizhang.kpis.definitions import Kind, Part
from taizhang.kpis.query import KpiQuery, api_cases_url

PARAMETERS = [
    OpenApiParameter("org", OpenApiTypes.INT, description="An organisation, with its sub-organisations; "
                     "empty for everything the caller may see. Out of scope is a 404."),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day of the period (default: 1 January)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day of the period, included (default: today)."),
]


CASE_LIST_NAMES = {"numerator": Part.NUMERATOR, "denominator": Part.DENOMINATOR}


class CaseListsSerializer(serializers.Serializer[Any]):
    numerator = serializers.CharField(required=False, help_text="GET this for the cases counted in the numerator.")
    denominator = serializers.CharField(help_text="GET this for the cases counted in the denominator.")


class FigureSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the field's name, not Field.label
    kind = serializers.ChoiceField(choices=[k.value for k in Kind])
    numerator = serializers.IntegerField(allow_null=True)
    denominator = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="numerator ÷ denominator, 0–1 (rates only)")
    value = serializers.FloatField(allow_null=True,
                                   help_text="As shown: the rate in per cent, the count or the average")
    cases = serializers.SerializerMethodField()

    @extend_schema_field(CaseListsSerializer)
    def get_cases(self, figure: selectors.FigureValue) -> dict[str, str]:
        return {name: api_cases_url(figure.cases[part]) for name, part in CASE_LIST_NAMES.items()
                if part in figure.cases}


class UnitKpisSerializer(serializers.Serializer[Any]):
    org_id = serializers.IntegerField(allow_null=True)
    org_name = serializers.CharField()
    score = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    figures = serializers.SerializerMethodField()

    @extend_schema_field(FigureSerializer(many=True))
    def get_figures(self, unit: selectors.UnitKpis) -> list[dict[str, Any]]:
        return FigureSerializer(list(unit.figures.values()), many=True).data  # type: ignore[return-value]


class KpiTableSerializer(serializers.Serializer[Any]):
    org_id = serializers.IntegerField(allow_null=True, source="org.id", default=None)
    start = serializers.DateField(source="period.start")
    end = serializers.DateField(source="period.end")
    weights = serializers.DictField(child=serializers.DecimalField(max_digits=5, decimal_places=2))
    total = UnitKpisSerializer()
    units = UnitKpisSerializer(many=True)


class KpiView(APIView):
    @extend_schema(operation_id="kpis_retrieve", parameters=PARAMETERS, responses=KpiTableSerializer)
    def get(self, request: Request) -> Response:
        query = KpiQuery.from_params(request.query_params)
        table = selectors.kpi_table(request.user, org=query.org, start=query.start,  # type: ignore[arg-type]
                                    end=query.end)
        return Response(KpiTableSerializer(table).data)
