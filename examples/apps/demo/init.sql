-- Schema of the demo service's database (the App's initSQL).
CREATE TABLE IF NOT EXISTS users (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL UNIQUE,
  role       text NOT NULL DEFAULT 'viewer',
  labels     jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
