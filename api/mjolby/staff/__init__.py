"""Staff accounts, sign-in, roles, audit log and the staff console under /staff."""
