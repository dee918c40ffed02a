-- pvelab schema, part 1: clusters, system settings, users.
--
-- Conventions for every migration:
-- * Timestamps are TEXT in UTC with a fixed format (YYYY-MM-DDTHH:MM:SS.ffffffZ) written by the
--   core, so that text order is time order and SQL comparisons work.
-- * Booleans are INTEGER 0/1 with a CHECK, because SQLite has no boolean type.
-- * Enumerated columns carry a CHECK listing the allowed values, mirroring the Rust enums.

-- Cluster: one Proxmox VE cluster the lab may use.
CREATE TABLE clusters (
    id                    INTEGER PRIMARY KEY,
    cluster_id            TEXT    NOT NULL UNIQUE CHECK (length(cluster_id) BETWEEN 1 AND 64),
    name                  TEXT    NOT NULL,
    host                  TEXT    NOT NULL CHECK (length(host) > 0),
    port                  INTEGER NOT NULL DEFAULT 8006 CHECK (port BETWEEN 1 AND 65535),
    user                  TEXT    NOT NULL,
    -- The data model's `password`: holds the SEALED password (XChaCha20-Poly1305 under the
    -- operator's key, nonce prepended), never the clear text. NULL when an API token is used.
    password              BLOB,
    -- Addition: API token authentication (PVE tokens "user@realm!tokenid" + secret). The id is not
    -- secret; the secret is sealed like the password.
    api_token_id          TEXT,
    api_token_secret      BLOB,
    verify_ssl            INTEGER NOT NULL DEFAULT 1 CHECK (verify_ssl IN (0, 1)),
    is_default            INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    is_active             INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    allow_vm_deployment   INTEGER NOT NULL DEFAULT 1 CHECK (allow_vm_deployment IN (0, 1)),
    allow_template_sync   INTEGER NOT NULL DEFAULT 1 CHECK (allow_template_sync IN (0, 1)),
    allow_iso_sync        INTEGER NOT NULL DEFAULT 1 CHECK (allow_iso_sync IN (0, 1)),
    auto_shutdown_enabled INTEGER NOT NULL DEFAULT 1 CHECK (auto_shutdown_enabled IN (0, 1)),
    priority              INTEGER NOT NULL DEFAULT 0,
    default_storage       TEXT,
    template_storage      TEXT,
    qcow2_template_path   TEXT,
    qcow2_images_path     TEXT,
    -- A group the front end maps (e.g. a Discord role id) whose members administer this cluster.
    admin_group           TEXT,
    -- User names or external ids (one per line) who administer this cluster.
    admin_users           TEXT    NOT NULL DEFAULT '',
    -- CIDR subnets (one per line) whose neighbour-table entries may be used to find VM addresses.
    arp_subnets           TEXT    NOT NULL DEFAULT '',
    vm_cache_ttl          INTEGER NOT NULL DEFAULT 60 CHECK (vm_cache_ttl >= 0),
    enable_ip_lookup      INTEGER NOT NULL DEFAULT 1 CHECK (enable_ip_lookup IN (0, 1)),
    enable_ip_persistence INTEGER NOT NULL DEFAULT 1 CHECK (enable_ip_persistence IN (0, 1)),
    description           TEXT,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    -- A cluster needs exactly one way to authenticate; both secrets are sealed.
    CHECK ((password IS NOT NULL) + (api_token_secret IS NOT NULL) = 1),
    CHECK ((api_token_id IS NULL) = (api_token_secret IS NULL))
);
-- At most one default cluster (a partial unique index: many rows may have is_default = 0).
CREATE UNIQUE INDEX clusters_single_default ON clusters (is_default) WHERE is_default = 1;
-- Cluster choice for deployment: active, allowing deployment, highest priority first.
CREATE INDEX clusters_deployment_order ON clusters (is_active, allow_vm_deployment, priority DESC);

-- SystemSettings: typed keys (validated by the core's SettingKey) over a key/value table. A missing
-- row means "the key's default".
CREATE TABLE system_settings (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    value       TEXT NOT NULL,
    description TEXT,
    updated_at  TEXT NOT NULL
);

-- User: a person known to the lab.
CREATE TABLE users (
    -- AUTOINCREMENT: ids are never reused, so a stale reference never names another person.
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Local user name for front ends with logins (NULL for users known only by an external id).
    username      TEXT UNIQUE CHECK (username IS NULL OR length(username) BETWEEN 1 AND 64),
    -- Argon2 PHC string; NULL means "no password login".
    password_hash TEXT,
    role          TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('adminer', 'teacher', 'user')),
    created_at    TEXT NOT NULL,
    -- Addition: the identity a front end knows the user by (the Discord user id). Opaque to the
    -- core: it never interprets it, so no front end's types leak into the core.
    external_id   TEXT UNIQUE CHECK (external_id IS NULL OR length(external_id) BETWEEN 1 AND 128),
    -- Addition: the name to show in lists (a Discord display name); not an identity.
    display_name  TEXT,
    -- Every user must be reachable by at least one identity.
    CHECK (username IS NOT NULL OR external_id IS NOT NULL),
    -- A password without a login name could never be used.
    CHECK (password_hash IS NULL OR username IS NOT NULL)
);
