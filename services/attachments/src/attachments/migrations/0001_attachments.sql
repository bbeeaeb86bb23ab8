-- Uploaded files (bytes live in the storage backend under storage_key, shared by uploads of identical bytes).
CREATE TABLE attachments (
    id               uuid        PRIMARY KEY,
    filename         text        NOT NULL,
    size             bigint      NOT NULL CHECK (size > 0),
    content_type     text        NOT NULL,
    sha256           text        NOT NULL,
    storage_key      text        NOT NULL,
    uploaded_by      uuid        NOT NULL,
    uploaded_at      timestamptz NOT NULL DEFAULT now(),
    declared_case_id uuid,
    linked_case_id   uuid,
    linked_at        timestamptz
);
CREATE INDEX attachments_unlinked ON attachments (uploaded_at) WHERE linked_at IS NULL;
CREATE INDEX attachments_storage_key ON attachments (storage_key);
CREATE INDEX attachments_pending_for_case ON attachments (declared_case_id)
    WHERE linked_at IS NULL AND declared_case_id IS NOT NULL;

-- Projection of the case events: who owns a case and whether it is still open.
CREATE TABLE case_access (
    case_id    uuid        PRIMARY KEY,
    owner_id   uuid        NOT NULL,
    status     text        NOT NULL CHECK (status IN ('open', 'closed')),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Which case each attachment was added to (from CaseOpened and AttachmentAdded).
CREATE TABLE attachment_links (
    attachment_id uuid        NOT NULL,
    case_id       uuid        NOT NULL,
    size          bigint      NOT NULL,
    linked_at     timestamptz NOT NULL,
    PRIMARY KEY (attachment_id, case_id)
);
CREATE INDEX attachment_links_case ON attachment_links (case_id);
