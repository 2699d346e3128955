#!/bin/sh
# Runs once, when the PostgreSQL volume is created. Two roles, each owning its
# own database and allowed into nothing else:
#   mjolby_app   - the API and the retention purge: conversations, handover, staff
#   rasa_tracker - Rasa's tracker store (and the purge, to delete expired trackers)
# The superuser (POSTGRES_USER) is for administration only; no service uses it.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v app_password="$APP_DB_PASSWORD" -v tracker_password="$TRACKER_DB_PASSWORD" <<'SQL'
CREATE ROLE mjolby_app LOGIN PASSWORD :'app_password';
CREATE ROLE rasa_tracker LOGIN PASSWORD :'tracker_password';
CREATE DATABASE mjolby_app OWNER mjolby_app;
CREATE DATABASE rasa_tracker OWNER rasa_tracker;
REVOKE ALL ON DATABASE mjolby_app FROM PUBLIC;
REVOKE ALL ON DATABASE rasa_tracker FROM PUBLIC;
REVOKE ALL ON DATABASE :"DBNAME" FROM PUBLIC;
SQL
