"""Submissions that fail validation are still refusals of an identified officer: recorded as
`ApplicationRejectedAtIntake` (they count in the quality indicators), then answered 422.

The body is the caller's raw input: only storable text of it is kept (no NUL, no unpaired
surrogate), and a retry with the same idempotency key and body is the same refusal."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError

from services.intake.adapters.repository import body_hash
from services.intake.domain.commands import RecordMalformedSubmission
from services.intake.domain.policy import POLICY
from services.intake.entrypoints.runtime import IntakeRuntime
from services.intake.service_layer.handlers import SubmitResult
from shared.auth.policy import Target
from shared.auth.tokens import InvalidToken, Principal, verify_token
from shared.contracts.applications import IntakeProblem, SubmitApplication
from shared.contracts.event import storable_text, unstorable_reason
from shared.http.auth import actor_of, meta_of
from shared.http.problems import error_answer, problem_response, validation_errors, validation_problem

KEY_FIELD = SubmitApplication.model_fields["idempotency_key"]


def usable_key(body: dict[str, Any], errors: list[dict[str, str]]) -> str:
    """The body's idempotency key if it is a valid one, else "" (nothing to claim)."""
    key = body.get("idempotency_key")
    if not isinstance(key, str) or any(e["field"] == "body.idempotency_key" for e in errors):
        return ""
    limit = next((m.max_length for m in KEY_FIELD.metadata if hasattr(m, "max_length")), 128)
    return key if 0 < len(key) <= limit and unstorable_reason(key) is None else ""


def install_malformed_recorder(app: FastAPI, runtime: IntakeRuntime) -> None:
    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError) -> Response:
        """A submission whose fields are missing or malformed is still a refused submission of
        an identified officer: recorded as `ApplicationRejectedAtIntake` (quality indicators)."""
        if request.method != "POST" or request.url.path != "/v1/applications":
            return validation_problem(exc)
        principal = _submitter(request)
        body = exc.body if isinstance(exc.body, dict) else None
        if principal is None or body is None or not _own_office(principal, body.get("office_id")):
            return validation_problem(exc)
        errors = validation_errors(exc)

        def text(name: str, limit: int) -> str:
            value = body.get(name)
            return storable_text(value, limit) if isinstance(value, str) else ""

        key = usable_key(body, errors)
        command = RecordMalformedSubmission(
            office_id=principal.office,
            service_id=text("service_id", 80),
            channel=text("channel", 80),
            idempotency_key=key,
            problems=tuple(
                IntakeProblem(code="invalid_field", field=e["field"], message=e["reason"]) for e in errors
            ),
            body_digest=body_hash(body) if key else None,
        )
        try:
            recorded: SubmitResult = await runtime.deps.service.bus.handle(
                command, meta_of(principal, request)
            )
        except Exception as error:  # answered as any other request's error (409, 503, ...)
            return error_answer(request, error)
        response = problem_response(
            422,
            "Request is invalid",
            f"{len(errors)} field(s) failed validation; recorded as a refused submission",
            errors=errors,
            application_id=recorded.event.application_id,
        )
        response.headers["Idempotent-Replayed"] = "true" if recorded.replayed else "false"
        return response

    def _submitter(request: Request) -> Principal | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            principal = verify_token(app.state.token_secret, token, issuer=app.state.token_issuer)
        except InvalidToken:
            return None
        return principal if principal.role.value in POLICY.roles(RecordMalformedSubmission) else None


def _own_office(principal: Principal, office_id: object) -> bool:
    """Whether the policy lets this officer record a refusal for the body's office (a body that
    names no office, or another, is answered without being recorded as anyone's refusal)."""
    if not isinstance(office_id, str):
        return False
    actor = actor_of(principal)
    target = Target(office_id)
    return POLICY.may_act_on(RecordMalformedSubmission, actor.role, actor.office, actor.subject, target)
