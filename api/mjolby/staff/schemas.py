"""Bodies of the staff sign-in, account and audit routes."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from mjolby.staff.models import AuditEntry, StaffUser
from mjolby.staff.service import StaffContext

RoleName = Literal["agent", "editor", "admin", "lead"]


class LoginIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class StaffOut(BaseModel):
    id: int
    email: str
    display_name: str
    role: RoleName

    @classmethod
    def of(cls, staff: StaffContext | StaffUser) -> StaffOut:
        if isinstance(staff, StaffContext):
            return cls(id=staff.staff_id, email=staff.email, display_name=staff.display_name,
                       role=staff.role)  # type: ignore[arg-type]
        return cls(id=staff.id, email=staff.email, display_name=staff.display_name,
                   role=staff.role)  # type: ignore[arg-type]


class SessionOut(BaseModel):
    staff: StaffOut
    csrf_token: str = Field(description="Skicka som X-CSRF-Token i alla POST/PUT/DELETE.")


class StaffCreate(BaseModel):
    email: str = Field(max_length=254)
    display_name: str = Field(default="", max_length=80, description="Förnamnet medborgaren ser.")
    role: RoleName = "agent"
    password: str = Field(min_length=12, max_length=1024)


class StaffAccountOut(StaffOut):
    active: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of_user(cls, user: StaffUser) -> StaffAccountOut:
        return cls(id=user.id, email=user.email, display_name=user.display_name, role=user.role,  # type: ignore[arg-type]
                   active=user.active, created_at=user.created_at, last_login_at=user.last_login_at)


class AuditOut(BaseModel):
    id: int
    staff_email: str
    action: str
    case_id: int | None
    contact_request_id: int | None
    conversation_id: str | None
    detail: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditOut:
        return cls(id=entry.id, staff_email=entry.staff_email, action=entry.action, case_id=entry.case_id,
                   contact_request_id=entry.contact_request_id, conversation_id=entry.conversation_id,
                   detail=entry.detail, created_at=entry.created_at)

