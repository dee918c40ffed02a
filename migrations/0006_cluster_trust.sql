-- pvelab schema, part 6: clusters the client can really reach.
--
-- Why: pvelab now talks to each cluster with its own API client built from this row, so the row
-- must say how the cluster's TLS certificate is trusted, and when it changed.
--
-- Trust is exactly one of four; the CHECKs below admit no combination:
-- * a pinned SHA-256 fingerprint (tls_fingerprint, PVE's upper-case colon form) - the usual
--   choice for PVE's self-signed certificates;
-- * a CA certificate (tls_ca_pem, PEM text; a certificate is public, so it is not sealed);
-- * the public CAs the client knows: verify_ssl = 1 with neither of the above, which is what
--   verify_ssl = 1 meant before this migration, so existing rows keep their meaning;
-- * no verification: verify_ssl = 0, the data model's flag, now only ever an explicit choice.
ALTER TABLE clusters ADD COLUMN tls_fingerprint TEXT
    CHECK (tls_fingerprint IS NULL OR (
        length(tls_fingerprint) = 95
        AND tls_fingerprint NOT GLOB '*[^0-9A-F:]*'
        AND verify_ssl = 1));
ALTER TABLE clusters ADD COLUMN tls_ca_pem TEXT
    CHECK (tls_ca_pem IS NULL OR (
        tls_ca_pem LIKE '-----BEGIN CERTIFICATE-----%'
        AND verify_ssl = 1
        AND tls_fingerprint IS NULL));

-- Addition: raised by one with every change of the row, so a cached API client is rebuilt when
-- its row changed (updated_at alone cannot tell: two changes may share a timestamp).
ALTER TABLE clusters ADD COLUMN revision INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1);

-- admin_users now holds typed entries, one per line: `user:<local user name>` or
-- `ext:<external id>`. A bare entry used to match a local user name OR an external id, so a
-- local account named like someone's external id was an administrator; such entries cannot be
-- typed after the fact without guessing, so they are dropped (adminers keep every right and can
-- add the typed entries again).
UPDATE clusters SET admin_users = '' WHERE admin_users <> '';
