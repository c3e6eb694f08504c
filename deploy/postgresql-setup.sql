-- PostgreSQL for csudesk (psql -U postgres -f deploy/postgresql-setup.sql), then
-- `systemctl start csudesk-migrate.service` creates the schema.
-- Choose the password, and put it in CSUDESK_SQLALCHEMY_DATABASE_URI (deploy/csudesk.env.example).
CREATE ROLE csudesk LOGIN PASSWORD 'replace-me';
CREATE DATABASE csudesk OWNER csudesk ENCODING 'UTF8' TEMPLATE template0;
-- Several app processes and senders: the default max_connections (100) covers
-- servers x (gunicorn workers x SQLAlchemy pool 5, overflow 10) + senders; raise it with them.
