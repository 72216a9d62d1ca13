"""API views for checks. Thin: the door (``restrict``) finds the record, a service changes it.

Every view declares the action it needs per HTTP method (``required_actions``); the queryset is
restricted for that same action, so a check outside the actor's scope answers 404.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from wellcheck.accounts.looks import OWN_WORK, api_look_reason
from wellcheck.accounts.models import User
from wellcheck.accounts.permissions import Action
from wellcheck.checks import services
from wellcheck.checks.api import serializers as s
from wellcheck.checks.api.convert import carried_consent, stored_values, to_check_input
from wellcheck.checks.api.filters import CheckFilter
from wellcheck.checks.api.schema import TokenScheme  # noqa: F401  (registers the auth scheme)
from wellcheck.checks.api.selectors import checks_for, identity_for
from wellcheck.checks.models import WellnessCheck
from wellcheck.core.routes import ActionPermission


class CheckApiView(generics.GenericAPIView):
    """Base: the action for the request's method restricts the queryset."""

    permission_classes = [ActionPermission]
    required_action: Action = Action.CHECK_VIEW
    required_actions: dict[str, Action] = {}
    lookup_field = "pk"

    @property
    def actor(self) -> User:
        """The signed-in user (ActionPermission has refused anonymous requests already)."""
        return cast(User, self.request.user)

    def request_action(self) -> Action:
        return self.required_actions.get(self.request.method or "GET", self.required_action)

    def get_queryset(self) -> QuerySet[WellnessCheck]:
        return checks_for(self.request.user, self.request_action())

    def full(self, check: WellnessCheck, *, audit: bool, reason: str = "") -> dict[str, Any]:
        check = (
            checks_for(self.request.user, Action.CHECK_VIEW).filter(pk=check.pk).first() or check
        )
        identity = identity_for(self.request.user, check, audit=audit, reason=reason)
        return s.CheckFullOutputSerializer(check, context={"identity": identity}).data


class CheckListCreateView(mixins.ListModelMixin, CheckApiView):
    """List the checks you may see (de-identified), or record a new one."""

    required_action = Action.CHECK_VIEW
    required_actions = {"POST": Action.CHECK_CREATE}
    serializer_class = s.CheckOutputSerializer
    filterset_class = CheckFilter

    @extend_schema(summary="List checks (de-identified facts only)")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary="Record a check",
        request=s.CheckInputSerializer,
        responses={201: s.CheckFullOutputSerializer},
    )
    def post(self, request: Request) -> Response:
        parsed = s.CheckInputSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        check = services.check_create(actor=self.actor, data=to_check_input(parsed.validated_data))
        return Response(self.full(check, audit=False), status=status.HTTP_201_CREATED)


class CheckDetailView(CheckApiView):
    """One check. The identifying part shows only with identity scope, and the read is audited."""

    required_action = Action.CHECK_VIEW
    required_actions = {"PUT": Action.CHECK_EDIT, "PATCH": Action.CHECK_EDIT}
    serializer_class = s.CheckFullOutputSerializer

    @extend_schema(summary="Read a check")
    def get(self, request: Request, pk: str) -> Response:
        check = self.get_object()
        # A reason for every look (issue 3): ?reason=<code> or X-Access-Reason, else 428.
        reason = api_look_reason(request, check)
        return Response(self.full(check, audit=True, reason=reason))

    @extend_schema(
        summary="Replace a draft, returned or imported check",
        request=s.CheckInputSerializer,
        responses={200: s.CheckFullOutputSerializer},
    )
    def put(self, request: Request, pk: str) -> Response:
        return self._update(request, partial=False)

    @extend_schema(
        summary="Change some fields of a draft, returned or imported check",
        request=s.CheckInputSerializer,
        responses={200: s.CheckFullOutputSerializer},
    )
    def patch(self, request: Request, pk: str) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        check = self.get_object()
        # The response shows the identifying part: a change to someone else's check is a look too
        # (428 without a reason), and the read is audited like a GET.
        reason = api_look_reason(request, check)
        parsed = s.CheckInputSerializer(data=request.data, partial=partial)
        parsed.is_valid(raise_exception=True)
        base = stored_values(check) if partial else None
        data = to_check_input(parsed.validated_data, base=base, carried=carried_consent(check))
        check = services.check_update(actor=self.actor, check=check, data=data)
        return Response(self.full(check, audit=reason != OWN_WORK, reason=reason))


class CheckSubmitView(CheckApiView):
    """Submit a check for review; refused with each missing field named if incomplete."""

    required_action = Action.CHECK_SUBMIT
    serializer_class = s.CheckOutputSerializer

    @extend_schema(
        summary="Submit a check for review", request=None, responses={200: s.CheckOutputSerializer}
    )
    def post(self, request: Request, pk: str) -> Response:
        check = services.check_submit(actor=self.actor, check=self.get_object())
        return Response(s.CheckOutputSerializer(self._reload(check)).data)

    def _reload(self, check: WellnessCheck) -> WellnessCheck:
        return checks_for(self.request.user, Action.CHECK_VIEW).filter(pk=check.pk).first() or check


class CheckReviewView(CheckSubmitView):
    """A supervisor approves a submitted check or returns it with a note."""

    required_action = Action.CHECK_REVIEW

    @extend_schema(
        summary="Approve or return a submitted check",
        request=s.ReviewInputSerializer,
        responses={200: s.CheckOutputSerializer},
    )
    def post(self, request: Request, pk: str) -> Response:
        check = self.get_object()
        parsed = s.ReviewInputSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        check = services.check_review(
            actor=self.actor,
            check=check,
            decision=parsed.validated_data["decision"],
            note=parsed.validated_data.get("note", ""),
        )
        return Response(s.CheckOutputSerializer(self._reload(check)).data)


class CheckMentalHealthView(CheckSubmitView):
    """Mark any call, in any state, as mental-health related (or unmark it)."""

    required_action = Action.CHECK_MARK_MH

    @extend_schema(
        summary="Mark a check as mental-health related",
        request=s.MentalHealthInputSerializer,
        responses={200: s.CheckOutputSerializer},
    )
    def post(self, request: Request, pk: str) -> Response:
        check = self.get_object()
        parsed = s.MentalHealthInputSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        check = services.check_mark_mental_health(
            actor=self.actor, check=check, related=parsed.validated_data["related"]
        )
        return Response(s.CheckOutputSerializer(self._reload(check)).data)
