"""Submissions that fail validation are still refusals of an identified officer: recorded as
`ApplicationRejectedAtIntake` (they count in the quality indicators), then answered 422."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError

from services.intake.domain.commands import RecordMalformedSubmission
from services.intake.domain.policy import POLICY
from services.intake.entrypoints.runtime import IntakeRuntime
from shared.auth.tokens import InvalidToken, Principal, verify_token
from shared.contracts.applications import IntakeProblem
from shared.http.auth import meta_of
from shared.http.problems import problem_response, validation_errors, validation_problem


def install_malformed_recorder(app: FastAPI, runtime: IntakeRuntime) -> None:
    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError) -> Response:
        """A submission whose fields are missing or malformed is still a refused submission of
        an identified officer: recorded as `ApplicationRejectedAtIntake` (quality indicators)."""
        if request.method != "POST" or request.url.path != "/v1/applications":
            return validation_problem(exc)
        principal = _submitter(request)
        body = exc.body if isinstance(exc.body, dict) else None
        if principal is None or body is None or body.get("office_id") != principal.office:
            return validation_problem(exc)
        errors = validation_errors(exc)

        def text(name: str) -> str:
            value = body.get(name)
            return value if isinstance(value, str) else ""

        command = RecordMalformedSubmission(
            office_id=principal.office,
            service_id=text("service_id"),
            channel=text("channel"),
            idempotency_key=text("idempotency_key"),
            problems=tuple(
                IntakeProblem(code="invalid_field", field=e["field"], message=e["reason"]) for e in errors
            ),
        )
        recorded = await runtime.deps.service.bus.handle(command, meta_of(principal, request))
        return problem_response(
            422,
            "Request is invalid",
            f"{len(errors)} field(s) failed validation; recorded as a refused submission",
            errors=errors,
            application_id=recorded.application_id,
        )

    def _submitter(request: Request) -> Principal | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            principal = verify_token(app.state.token_secret, token, issuer=app.state.token_issuer)
        except InvalidToken:
            return None
        return principal if principal.role.value in POLICY.roles(RecordMalformedSubmission) else None
