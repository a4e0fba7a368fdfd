"""Who may do what: roles, permissions, and the one check every service calls.

Permissions are decided here and nowhere else. A view never looks at roles; a service
states the permission it needs with ``require``, which also pins the call to the caller's
own town: the town in the token, never a parameter, decides which data is reachable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from chalicelib.domain.errors import AccessDenied, Unauthenticated


class Role(StrEnum):
    OPERATOR = "operator"  # runs the platform: creates, suspends and exports towns
    TOWN_ADMIN = "town_admin"
    AGENT = "agent"  # 311 agent: enters requests for residents (phone, counter, email)
    DEPARTMENT_WORKER = "department_worker"  # scoped to one or more departments
    SUPERVISOR = "supervisor"
    EMERGENCY_MANAGER = "emergency_manager"
    ANALYST = "analyst"  # read-only


class Permission(StrEnum):
    MANAGE_TOWNS = "manage_towns"  # create, suspend, resume, export any town
    CONFIGURE_TOWN = "configure_town"  # settings, calendar, branding, departments, zones
    EDIT_CATALOGUE = "edit_catalogue"
    MANAGE_STAFF = "manage_staff"
    MANAGE_API_KEYS = "manage_api_keys"
    READ_AUDIT_LOG = "read_audit_log"
    EXPORT_TOWN = "export_town"
    READ_TOWN_SETTINGS = "read_town_settings"
    READ_REQUESTS = "read_requests"  # every request of the town, with internal timeline
    READ_DEPARTMENT_REQUESTS = "read_department_requests"  # only the caller's departments
    ENTER_REQUESTS = "enter_requests"  # on a resident's behalf
    MERGE_REQUESTS = "merge_requests"  # close a duplicate into the request it repeats
    WORK_REQUESTS = "work_requests"  # acknowledge, accept, note, hand off, close, reopen
    SEND_ALERTS = "send_alerts"
    APPROVE_ALERTS = "approve_alerts"  # the second person before an alert goes out
    ERASE_RESIDENT_CONTACT = "erase_resident_contact"


_ADMIN = {
    Permission.CONFIGURE_TOWN, Permission.EDIT_CATALOGUE, Permission.MANAGE_STAFF,
    Permission.MANAGE_API_KEYS, Permission.READ_AUDIT_LOG, Permission.EXPORT_TOWN,
    Permission.READ_TOWN_SETTINGS, Permission.READ_REQUESTS, Permission.ENTER_REQUESTS,
    Permission.ERASE_RESIDENT_CONTACT, Permission.WORK_REQUESTS, Permission.MERGE_REQUESTS,
    Permission.APPROVE_ALERTS,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset({Permission.MANAGE_TOWNS, Permission.EXPORT_TOWN}),
    Role.TOWN_ADMIN: frozenset(_ADMIN),
    Role.AGENT: frozenset({Permission.READ_REQUESTS, Permission.ENTER_REQUESTS,
                           Permission.READ_TOWN_SETTINGS, Permission.MERGE_REQUESTS}),
    Role.DEPARTMENT_WORKER: frozenset({Permission.READ_DEPARTMENT_REQUESTS,
                                       Permission.READ_TOWN_SETTINGS,
                                       Permission.WORK_REQUESTS}),
    Role.SUPERVISOR: frozenset({Permission.READ_REQUESTS, Permission.ENTER_REQUESTS,
                                Permission.READ_TOWN_SETTINGS, Permission.WORK_REQUESTS,
                                Permission.MERGE_REQUESTS}),
    Role.EMERGENCY_MANAGER: frozenset({Permission.SEND_ALERTS, Permission.APPROVE_ALERTS,
                                       Permission.READ_TOWN_SETTINGS}),
    Role.ANALYST: frozenset({Permission.READ_REQUESTS, Permission.READ_TOWN_SETTINGS}),
}


@dataclass(frozen=True)
class Principal:
    """The verified caller: a member of staff (from a JWT) or an integration (an API key)."""

    subject: str
    town_id: str | None  # None only for platform operators
    roles: frozenset[Role] = frozenset()
    departments: frozenset[str] = frozenset()
    email: str | None = None
    source_ip: str | None = None
    kind: str = "staff"
    permissions: frozenset[Permission] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        granted: set[Permission] = set()
        for role in self.roles:
            granted |= ROLE_PERMISSIONS.get(role, frozenset())
        object.__setattr__(self, "permissions", frozenset(granted))

    @property
    def actor(self) -> str:
        """How the audit log names the caller: their e-mail, else their subject."""
        return self.email or self.subject

    @property
    def public_role(self) -> str:
        """How a public timeline names the caller: a role, never a person."""
        for role in (Role.AGENT, Role.DEPARTMENT_WORKER, Role.SUPERVISOR, Role.TOWN_ADMIN):
            if role in self.roles:
                return role.value
        return "staff"


def require(principal: Principal, permission: Permission, town_id: str | None) -> None:
    """Allow the call only if the caller holds ``permission`` in ``town_id``.

    Operators act on any town, but only through operator permissions; everyone else acts
    only in the town their token names."""
    if permission not in principal.permissions:
        raise AccessDenied(f"your role does not allow {permission.value.replace('_', ' ')}")
    if Role.OPERATOR in principal.roles and permission in ROLE_PERMISSIONS[Role.OPERATOR]:
        return
    if principal.town_id is None or town_id != principal.town_id:
        raise AccessDenied("that town is not yours")


def refuse_impossible_identity(town_id: str | None, roles: frozenset[Role]) -> None:
    """Refuse a sign-in (token or staff record) that names nobody who can exist: operators
    belong to no town, and every other role belongs to exactly one.

    An operator with a town would be half platform, half town (``require`` lets operator
    permissions through in any town); a town role without a town would act nowhere, or
    anywhere a check forgets the town. Neither is made by Town311, so neither is accepted.
    """
    if not roles:
        raise Unauthenticated("this sign-in has no Town311 role")
    if Role.OPERATOR in roles and town_id is not None:
        raise Unauthenticated("a platform operator's sign-in cannot belong to a town")
    if roles - {Role.OPERATOR} and town_id is None:
        raise Unauthenticated("this sign-in belongs to no town")


def can(principal: Principal, permission: Permission) -> bool:
    return permission in principal.permissions


def require_work(principal: Principal, department: str | None, town_id: str | None) -> None:
    """Working a request: supervisors and admins anywhere in their town, department
    workers only in their own departments."""
    require(principal, Permission.WORK_REQUESTS, town_id)
    if can(principal, Permission.READ_REQUESTS):
        return
    if department is None or department not in principal.departments:
        raise AccessDenied("this department is not yours")


def require_department(principal: Principal, department: str | None, town_id: str) -> None:
    """Reading one request: town-wide readers may; department workers only their own."""
    if can(principal, Permission.READ_REQUESTS):
        require(principal, Permission.READ_REQUESTS, town_id)
        return
    require(principal, Permission.READ_DEPARTMENT_REQUESTS, town_id)
    if department is None or department not in principal.departments:
        raise AccessDenied("this request is not assigned to your department")
